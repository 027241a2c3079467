/**
 * Server reflection from the real descriptors: `glomseg/v1/glomseg.proto` exactly as protoc compiled it (file name,
 * snake_case fields, map entries), taken from the generated code, and grpc.health.v1 the same way. Dynamic
 * clients (buf curl, grpcurl, Python's descriptor pool) rebuild the schema from these alone.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { toBinary, type DescFile } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { file_glomseg_v1_glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { file_health_v1_health } from '@glomseg/api/gen/health/v1/health_pb.js';

/** A file and every file it imports, dependencies first, each once. */
function withDependencies(file: DescFile, seen = new Set<string>()): DescFile[] {
  if (seen.has(file.proto.name)) return [];
  seen.add(file.proto.name);
  return [...file.dependencies.flatMap((dependency) => withDependencies(dependency, seen)), file];
}

export function addReflection(server: grpc.Server): void {
  const seen = new Set<string>();
  const files = [file_glomseg_v1_glomseg, file_health_v1_health].flatMap((file) => withDependencies(file, seen));
  // @grpc/reflection indexes whatever encoded FileDescriptorProtos a package definition carries.
  const definitions = {
    served: { fileDescriptorProtos: files.map((file) => Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto))) },
  };
  new ReflectionService(definitions as unknown as protoLoader.PackageDefinition).addToServer(server);
}
