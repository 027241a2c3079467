/** Message shapes both sides map alike: a rectangle in level-0 pixels, a ring and a reviewed region (define once). */
import { create } from '@bufbuild/protobuf';
import type { Rect, Ring } from '@glomseg/shared/geometry.js';
import type { AnnotatedRegion } from '@glomseg/shared/reviewed-annotations.js';
import * as pb from '../gen/glomseg/v1/glomseg_pb.js';
import { GLOMERULUS_SOURCES } from './wire-enums.js';

export function rectToProto(rect: Rect): pb.Rect {
  return create(pb.RectSchema, { x: rect.x, y: rect.y, width: rect.width, height: rect.height });
}

export function rectFromProto(rect: pb.Rect | undefined): Rect {
  return { x: rect?.x ?? 0, y: rect?.y ?? 0, width: rect?.width ?? 0, height: rect?.height ?? 0 };
}

/** A ring as its flat wire list x0, y0, x1, y1, ... */
export function ringToProto(ring: Ring): pb.Ring {
  const xy = new Array<number>(ring.length * 2);
  ring.forEach(([x, y], i) => {
    xy[2 * i] = x;
    xy[2 * i + 1] = y;
  });
  return create(pb.RingSchema, { xy });
}

/** A ring from its flat wire list, as a reply carries it (a request's rings go through the validator instead). */
export function ringFromProto(ring: pb.Ring | undefined): Ring {
  const xy = ring?.xy ?? [];
  const points: Ring = [];
  for (let i = 0; i + 1 < xy.length; i += 2) points.push([xy[i], xy[i + 1]]);
  return points;
}

/** A reviewed region with its glomeruli: a save's request and a version's reply carry the same message. */
export function annotatedRegionToProto(region: AnnotatedRegion): pb.ReviewedRegion {
  return create(pb.ReviewedRegionSchema, {
    id: region.id,
    outline: ringToProto(region.outline),
    glomeruli: region.glomeruli.map((glomerulus) =>
      create(pb.ReviewedGlomerulusSchema, {
        exterior: ringToProto(glomerulus.exterior),
        holes: glomerulus.holes.map(ringToProto),
        source: GLOMERULUS_SOURCES.wire(glomerulus.source),
      }),
    ),
  });
}
