/**
 * Each wire enum beside its domain names, once; both directions are read from the same table, so a value added
 * to the proto is added here and nowhere else.
 */
import type { TileEdge } from '@glomseg/shared/geometry.js';
import type { AnnotationFormat } from '@glomseg/shared/glomseg-service.js';
import type { GlomerulusSource } from '@glomseg/shared/reviewed-annotations.js';
import type { StainNormalizationChoice } from '@glomseg/shared/stain-normalization.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import * as pb from '../gen/glomseg/v1/glomseg_pb.js';

/** A domain name <-> wire number table, read in both directions. */
export class WireEnum<Name extends string, Wire extends number> {
  private readonly toName = new Map<number, Name>();

  constructor(
    private readonly field: string,
    private readonly toWire: Record<Name, Wire>,
  ) {
    for (const [name, wire] of Object.entries(toWire) as Array<[Name, Wire]>) this.toName.set(wire, name);
  }

  wire(name: Name): Wire {
    return this.toWire[name];
  }

  /** The domain name of a wire value; a value this build does not know is the caller's error. */
  name(wire: number): Name {
    const name = this.toName.get(wire);
    if (name === undefined) {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `${this.field} ${wire} is not one of ${[...this.toName.keys()].join(', ')}`,
      );
    }
    return name;
  }

  /** Like name(), but an unknown value (a newer peer's) is dropped instead of failing. */
  nameOrUndefined(wire: number): Name | undefined {
    return this.toName.get(wire);
  }
}

export const TILE_EDGES = new WireEnum<TileEdge, pb.TileEdge>('touches', {
  top: pb.TileEdge.TOP,
  right: pb.TileEdge.RIGHT,
  bottom: pb.TileEdge.BOTTOM,
  left: pb.TileEdge.LEFT,
});

/**
 * Each registered annotation format (shared/src/annotation-formats/) by name: the proto's enum cannot be derived,
 * so a new format adds its line here (the Record type makes a missing one a compile error), and
 * test/api/wire-enums.test.ts holds this table and the proto to the registry.
 */
export const ANNOTATION_FORMATS = new WireEnum<AnnotationFormat, pb.AnnotationFormat>('annotations.format', {
  auto: pb.AnnotationFormat.AUTO,
  geojson: pb.AnnotationFormat.GEOJSON,
  labelme: pb.AnnotationFormat.LABELME,
  'rle-csv': pb.AnnotationFormat.RLE_CSV,
});

export const STAIN_NORMALIZATIONS = new WireEnum<StainNormalizationChoice, pb.StainNormalization>(
  'stain_normalization',
  {
    auto: pb.StainNormalization.AUTO,
    off: pb.StainNormalization.OFF,
    reinhard: pb.StainNormalization.REINHARD,
  },
);

/** Where a reviewed glomerulus came from; UNSPECIFIED has no name, so a save that leaves it unset is refused. */
export const GLOMERULUS_SOURCES = new WireEnum<GlomerulusSource, pb.GlomerulusSource>('glomeruli.source', {
  predicted: pb.GlomerulusSource.PREDICTED,
  edited: pb.GlomerulusSource.EDITED,
  drawn: pb.GlomerulusSource.DRAWN,
  imported: pb.GlomerulusSource.IMPORTED,
});
