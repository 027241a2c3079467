/**
 * A service descriptor as a @grpc/grpc-js service definition whose messages are the protobuf-es ones of api/gen/,
 * so native gRPC serves the same messages (and the same ServiceImpl, connect-on-grpc-js.ts) as gRPC-Web.
 */
import { fromBinary, toBinary, type DescMessage, type DescService, type MessageShape } from '@bufbuild/protobuf';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';

/** protobuf-es binary encoding of one message type, as grpc-js takes it (server definitions and the client transport). */
export function serializer<Desc extends DescMessage>(schema: Desc) {
  return (message: MessageShape<Desc>) => Buffer.from(toBinary(schema, message));
}

export function deserializer<Desc extends DescMessage>(schema: Desc) {
  return (bytes: Buffer) => fromBinary(schema, bytes);
}

export function grpcServiceDefinition(service: DescService = Glomseg): ServiceDefinition {
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of service.methods) {
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return definition as ServiceDefinition;
}
