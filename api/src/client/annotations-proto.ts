/**
 * The annotation store's RPCs on the client side: a save as its request, and the replies as the plain types of
 * shared/. The server's side is api/src/server/annotations-proto.ts.
 */
import { create } from '@bufbuild/protobuf';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type {
  AnnotatedRegion,
  AnnotationVersionInfo,
  SaveAnnotationsParams,
  SlideAnnotations,
} from '@glomseg/shared/reviewed-annotations.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { GLOMERULUS_SOURCES } from '../wire-enums.js';
import { annotatedRegionToProto, ringFromProto } from '../wire-shapes.js';

export function saveAnnotationsRequestToProto(params: SaveAnnotationsParams): pb.SaveAnnotationsRequest {
  return create(pb.SaveAnnotationsRequestSchema, {
    slideId: params.slideId,
    baseVersion: params.baseVersion,
    note: params.note,
    regions: params.regions.map(annotatedRegionToProto),
  });
}

export function annotationVersionFromProto(version: pb.AnnotationVersion | undefined): AnnotationVersionInfo {
  if (!version) throw new GlomsegError('UNAVAILABLE', 'the server sent annotations without their version');
  const { $typeName: _type, ...fields } = version;
  return fields;
}

export function annotatedRegionFromProto(region: pb.ReviewedRegion): AnnotatedRegion {
  return {
    id: region.id,
    outline: ringFromProto(region.outline),
    glomeruli: region.glomeruli.map((glomerulus) => ({
      exterior: ringFromProto(glomerulus.exterior),
      holes: glomerulus.holes.map(ringFromProto),
      // A source a newer server knows and this client does not reads as drawn by a person.
      source: GLOMERULUS_SOURCES.nameOrUndefined(glomerulus.source) ?? 'drawn',
    })),
  };
}

export function slideAnnotationsFromProto(annotations: pb.SlideAnnotations): SlideAnnotations {
  return {
    version: annotationVersionFromProto(annotations.version),
    regions: annotations.regions.map(annotatedRegionFromProto),
  };
}

/** ExportAnnotations' chunks joined into the GeoJSON text, with the version the first names. */
export async function exportTextFromProto(
  chunks: AsyncIterable<pb.ExportAnnotationsChunk>,
): Promise<{ version: AnnotationVersionInfo; text: string }> {
  let version: AnnotationVersionInfo | undefined;
  const parts: string[] = [];
  for await (const chunk of chunks) {
    if (chunk.version) version ??= annotationVersionFromProto(chunk.version);
    parts.push(chunk.text);
  }
  if (!version) throw new GlomsegError('UNAVAILABLE', 'the export ended before its first piece');
  return { version, text: parts.join('') };
}
