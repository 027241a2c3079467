/** Message shapes both sides map alike: a rectangle in level-0 pixels, either way (define once). */
import { create } from '@bufbuild/protobuf';
import type { Rect } from '@glomseg/shared/geometry.js';
import * as pb from '../gen/glomseg/v1/glomseg_pb.js';

export function rectToProto(rect: Rect): pb.Rect {
  return create(pb.RectSchema, { x: rect.x, y: rect.y, width: rect.width, height: rect.height });
}

export function rectFromProto(rect: pb.Rect | undefined): Rect {
  return { x: rect?.x ?? 0, y: rect?.y ?? 0, width: rect?.width ?? 0, height: rect?.height ?? 0 };
}
