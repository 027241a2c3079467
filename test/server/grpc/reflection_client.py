"""A glomseg client that knows nothing of glomseg but its address: every schema comes from server reflection.

Usage: /usr/bin/python3 reflection_client.py HOST:PORT SERVICE CALLS_JSON
CALLS_JSON is a list of {"method": name, "request": {...}} with requests in the proto's own field names; each
call's responses are printed as one JSON line, in order. With "summary": true a call prints, instead of its
responses, how many messages came, the largest one's size, the polygons in them and the last message. The channel
keeps grpcio's defaults (a 4 MiB receive limit). Uses only grpcio and protobuf (Debian: python3-grpcio).
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

F = descriptor_pb2.FieldDescriptorProto


def reflection_schema():
    """grpc.reflection.v1 request/response, the parts this client uses, defined here instead of generated."""
    file = descriptor_pb2.FileDescriptorProto(name='client/reflection_subset.proto', package='grpc.reflection.v1', syntax='proto3')

    def message(name, fields, oneof=None):
        m = file.message_type.add(name=name)
        if oneof:
            m.oneof_decl.add(name=oneof)
        for field_name, number, kind, type_name, label, in_oneof in fields:
            f = m.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                f.type_name = type_name
            if in_oneof:
                f.oneof_index = 0

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message('ServerReflectionRequest', [
        ('host', 1, F.TYPE_STRING, None, opt, False),
        ('file_by_filename', 3, F.TYPE_STRING, None, opt, True),
        ('file_containing_symbol', 4, F.TYPE_STRING, None, opt, True),
        ('list_services', 7, F.TYPE_STRING, None, opt, True),
    ], oneof='message_request')
    message('FileDescriptorResponse', [('file_descriptor_proto', 1, F.TYPE_BYTES, None, rep, False)])
    message('ServiceResponse', [('name', 1, F.TYPE_STRING, None, opt, False)])
    message('ListServiceResponse', [('service', 1, F.TYPE_MESSAGE, '.grpc.reflection.v1.ServiceResponse', rep, False)])
    message('ErrorResponse', [('error_code', 1, F.TYPE_INT32, None, opt, False), ('error_message', 2, F.TYPE_STRING, None, opt, False)])
    message('ServerReflectionResponse', [
        ('valid_host', 1, F.TYPE_STRING, None, opt, False),
        ('file_descriptor_response', 4, F.TYPE_MESSAGE, '.grpc.reflection.v1.FileDescriptorResponse', opt, True),
        ('list_services_response', 6, F.TYPE_MESSAGE, '.grpc.reflection.v1.ListServiceResponse', opt, True),
        ('error_response', 7, F.TYPE_MESSAGE, '.grpc.reflection.v1.ErrorResponse', opt, True),
    ], oneof='message_response')
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


def message_class(pool, full_name):
    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, 'GetMessageClass'):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def main():
    address, service_name, calls = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    channel = grpc.insecure_channel(address)
    own = reflection_schema()
    Request = message_class(own, 'grpc.reflection.v1.ServerReflectionRequest')
    Response = message_class(own, 'grpc.reflection.v1.ServerReflectionResponse')
    reflect = channel.stream_stream('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
                                    request_serializer=Request.SerializeToString, response_deserializer=Response.FromString)

    def ask(**kwargs):
        (answer,) = list(reflect(iter([Request(**kwargs)]), timeout=30))
        if answer.HasField('error_response'):
            raise SystemExit(f'reflection error: {answer.error_response.error_message}')
        return answer

    services = [s.name for s in ask(list_services='*').list_services_response.service]
    print(json.dumps({'services': services}))

    # The service's file and its imports, added to an empty pool in dependency order.
    pool = descriptor_pool.DescriptorPool()
    files = {}
    pending = [ask(file_containing_symbol=service_name)]
    while pending:
        for raw in pending.pop().file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(raw)
            files.setdefault(file.name, file)
        for file in list(files.values()):
            for dependency in file.dependency:
                if dependency not in files:
                    pending.append(ask(file_by_filename=dependency))
    added = set()

    def add(name):
        if name in added:
            return
        for dependency in files[name].dependency:
            add(dependency)
        pool.Add(files[name])
        added.add(name)

    for name in files:
        add(name)
    print(json.dumps({'files': sorted(files)}))

    service = pool.FindServiceByName(service_name)
    for call in calls:
        method = service.methods_by_name[call['method']]
        In, Out = message_class(pool, method.input_type.full_name), message_class(pool, method.output_type.full_name)
        path = f'/{service.full_name}/{method.name}'
        request = json_format.ParseDict(call['request'], In())
        if method.server_streaming:
            stub = channel.unary_stream(path, request_serializer=In.SerializeToString, response_deserializer=Out.FromString)
            responses = list(stub(request, timeout=120))
        else:
            stub = channel.unary_unary(path, request_serializer=In.SerializeToString, response_deserializer=Out.FromString)
            responses = [stub(request, timeout=120)]
        if call.get('summary'):
            sizes = [r.ByteSize() for r in responses]
            polygons = sum(len(getattr(r, r.WhichOneof('event')).polygons) for r in responses
                           if r.DESCRIPTOR.oneofs and r.WhichOneof('event') == 'polygons')
            print(json.dumps({'method': method.name, 'messages': len(responses), 'maxBytes': max(sizes), 'totalBytes': sum(sizes),
                              'polygons': polygons, 'last': json_format.MessageToDict(responses[-1], preserving_proto_field_name=True)}))
            continue
        print(json.dumps({'method': method.name, 'responses': [json_format.MessageToDict(r, preserving_proto_field_name=True) for r in responses]}))


if __name__ == '__main__':
    main()
