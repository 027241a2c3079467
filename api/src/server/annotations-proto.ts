/**
 * The annotation store's RPCs, both ways on the server side: requests to checked domain parameters (through the
 * one validator) and the store's versions to replies. Beside from-proto.ts / to-proto.ts, which keep the slide
 * and scoring calls.
 */
import { create } from '@bufbuild/protobuf';
import type { Checked } from '@glomseg/shared/glomseg-service.js';
import type {
  AnnotationQuery,
  AnnotationVersionInfo,
  SaveAnnotationsParams,
  SlideAnnotations,
} from '@glomseg/shared/reviewed-annotations.js';
import * as pb from '../../gen/glomseg/v1/glomseg_pb.js';
import { GLOMERULUS_SOURCES } from '../wire-enums.js';
import { annotatedRegionToProto } from '../wire-shapes.js';
import { checkAnnotationQuery, checkSaveAnnotations } from './request-checks.js';
import { ringFromWire, validAnnotationCounts } from './request-fields.js';

export function saveAnnotationsParamsFromProto(request: pb.SaveAnnotationsRequest): Checked<SaveAnnotationsParams> {
  // Sizes first, on the wire message, before any array is built from it.
  validAnnotationCounts(
    request.regions.map((region) => ({
      rings: [region.outline, ...region.glomeruli.flatMap((g) => [g.exterior, ...g.holes])].map(
        (ring) => (ring?.xy.length ?? 0) / 2,
      ),
      glomeruli: region.glomeruli.length,
    })),
  );
  return checkSaveAnnotations({
    slideId: request.slideId,
    baseVersion: request.baseVersion,
    note: request.note,
    regions: request.regions.map((region, r) => ({
      id: region.id,
      outline: ringFromWire(`regions[${r}].outline`, region.outline?.xy ?? []),
      glomeruli: region.glomeruli.map((glomerulus, g) => ({
        exterior: ringFromWire(`regions[${r}].glomeruli[${g}].exterior`, glomerulus.exterior?.xy ?? []),
        holes: glomerulus.holes.map((hole, h) => ringFromWire(`regions[${r}].glomeruli[${g}].holes[${h}]`, hole.xy)),
        source: GLOMERULUS_SOURCES.name(glomerulus.source),
      })),
    })),
  });
}

export function annotationQueryFromProto(
  request: pb.ListAnnotationsRequest | pb.GetAnnotationsRequest | pb.ExportAnnotationsRequest,
): Checked<AnnotationQuery> {
  return checkAnnotationQuery({
    slideId: request.slideId,
    version: 'version' in request ? request.version : undefined,
  });
}

export function annotationVersionToProto(version: AnnotationVersionInfo): pb.AnnotationVersion {
  return create(pb.AnnotationVersionSchema, { ...version });
}

export function slideAnnotationsToProto(annotations: SlideAnnotations): pb.SlideAnnotations {
  return create(pb.SlideAnnotationsSchema, {
    version: annotationVersionToProto(annotations.version),
    regions: annotations.regions.map(annotatedRegionToProto),
  });
}

/** Text pieces one ExportAnnotationsChunk holds: the proto promises every message stays well under 1 MiB. */
export const EXPORT_CHUNK_CHARS = 256 * 1024;

/** An exported GeoJSON text as its chunks (UTF-16 units; 256 Ki of them encode to at most 768 KiB). */
export function* exportChunksToProto(
  version: AnnotationVersionInfo,
  text: string,
  chunkChars = EXPORT_CHUNK_CHARS,
): Generator<pb.ExportAnnotationsChunk> {
  let start = 0;
  do {
    // A surrogate pair is not split: a lone half would not survive UTF-8.
    let end = Math.min(text.length, start + chunkChars);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
    yield create(pb.ExportAnnotationsChunkSchema, {
      text: text.slice(start, end),
      version: start === 0 ? annotationVersionToProto(version) : undefined,
    });
    start = end;
  } while (start < text.length);
}
