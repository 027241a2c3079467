/**
 * The edge check of every request field, before any work: a field left unset takes its default, anything set must
 * be a finite value in its range, or the call ends with INVALID_ARGUMENT and a message naming the field. Each rule
 * is here once (request-checks.ts puts them together per call); limits that depend on the slide (tiles, Dice grid)
 * are the server's, checked once the grid is known, still before inference.
 */
import { GlomsegError } from '@glomseg/shared/errors.js';
import { MAX_COORDINATE, type Rect } from '@glomseg/shared/geometry.js';
import type { TileAddress } from '@glomseg/shared/tile-grid.js';

/** Probability thresholds that still separate glomerulus from background. */
export const THRESHOLD_RANGE = { min: 0.001, max: 0.999 } as const;
/** Pixel sizes a slide can plausibly have (um/px at level 0): electron microscopy to a phone photo of a slide. */
export const MPP_RANGE = { min: 0.01, max: 100 } as const;
/** Longest slide id: a path inside the slide folders, or a slide URL. */
export const MAX_SLIDE_ID_LENGTH = 4096;
export { MAX_COORDINATE };

function invalid(message: string): never {
  throw new GlomsegError('INVALID_ARGUMENT', message);
}

/** An optional number: unset stays unset; set, it must be finite and within [min, max]. */
export function optionalInRange(
  field: string,
  value: number | undefined,
  range: { min: number; max: number },
  unit = '',
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value)) invalid(`${field} must be a finite number, got ${value}`);
  if (value < range.min || value > range.max)
    invalid(`${field} ${value}${unit} is outside ${range.min}..${range.max}${unit} (leave it unset for the default)`);
  return value;
}

/**
 * The threshold is a float on the wire: checked and used at float precision wherever the request comes from, so a
 * caller in process and one over gRPC get the same answer (0.999 arrives as 0.99900001, inside the range).
 */
export function validThreshold(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value)) invalid(`threshold must be a finite number, got ${value}`);
  const float = Math.fround(value);
  if (float < Math.fround(THRESHOLD_RANGE.min) || float > Math.fround(THRESHOLD_RANGE.max)) {
    invalid(
      `threshold ${float} is outside ${THRESHOLD_RANGE.min}..${THRESHOLD_RANGE.max} (leave it unset for the default)`,
    );
  }
  return float;
}

export function validMppOverride(value: number | undefined): number | undefined {
  return optionalInRange('mpp_override', value, MPP_RANGE, ' um/px');
}

export function validSlideId(value: string): string {
  if (!value || !value.trim()) invalid('slide_id is required');
  if (value.length > MAX_SLIDE_ID_LENGTH)
    invalid(`slide_id is ${value.length} characters long; at most ${MAX_SLIDE_ID_LENGTH}`);
  return value;
}

/** A slide id where one is optional: empty is "none"; anything else is a slide id. */
export function validOptionalSlideId(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : validSlideId(value);
}

/** A Dice grid cell edge: unset (the default) or whole pixels. */
export function validDiceTileEdge(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > MAX_COORDINATE) {
    invalid(`${field} ${value} must be whole pixels from 1 to ${MAX_COORDINATE} (leave it unset for the default)`);
  }
  return value;
}

/** A region in level-0 pixels: unset or all zero is "the whole slide"; otherwise finite, inside +-2^30, with a positive size. */
export function validRegion(region: Rect | undefined): Rect | undefined {
  if (!region) return undefined;
  const { x, y, width, height } = region;
  if (x === 0 && y === 0 && width === 0 && height === 0) return undefined;
  for (const [name, v] of Object.entries({ x, y, width, height })) {
    if (!Number.isFinite(v)) invalid(`region.${name} must be a finite number, got ${v}`);
    if (Math.abs(v) > MAX_COORDINATE) invalid(`region.${name} ${v} is beyond +-${MAX_COORDINATE} pixels`);
  }
  if (width <= 0 || height <= 0) invalid(`region ${width} x ${height} must have a positive width and height`);
  return { x, y, width, height };
}

/**
 * A request refused before any field is read, in the same words on every transport: gRPC (grpc-js's own
 * refusals, server/src/grpc/grpc-js-edge.ts) and gRPC-Web (server/src/web/grpc-web-request-check.ts).
 * `typeName`: the request message type, e.g. glomseg.v1.GetSlideInfoRequest.
 */
export const WIRE_REFUSALS = {
  notProtobuf: (typeName: string) =>
    new GlomsegError(
      'INVALID_ARGUMENT',
      `the request is not a valid ${typeName} message: its bytes do not parse as protobuf (a compressed message also needs its grpc-encoding header)`,
    ),
  notDecompressible: (typeName: string) =>
    new GlomsegError(
      'INVALID_ARGUMENT',
      `the request's ${typeName} message could not be decompressed with the call's grpc-encoding: the compressed bytes are corrupt`,
    ),
  compressedWithoutEncoding: (typeName: string) =>
    new GlomsegError(
      'INVALID_ARGUMENT',
      `the request's ${typeName} message is flagged compressed, but the call names no grpc-encoding`,
    ),
  badTimeout: () =>
    new GlomsegError(
      'INVALID_ARGUMENT',
      'the grpc-timeout header of the call is not a gRPC timeout: 1 to 8 digits and a unit (H, M, S, m, u or n), e.g. 30S',
    ),
};

export function validTileAddress(tile: TileAddress, index: number): TileAddress {
  if (!Number.isInteger(tile.col) || !Number.isInteger(tile.row) || tile.col < 0 || tile.row < 0) {
    invalid(`tiles[${index}] (${tile.col}, ${tile.row}) must have whole, non-negative col and row`);
  }
  return { col: tile.col, row: tile.row };
}

/** The tiles of a StreamTiles: at least one, each a whole, non-negative address (the grid is the slide's to judge). */
export function validTiles(tiles: readonly TileAddress[]): TileAddress[] {
  if (tiles.length === 0) invalid('no tiles were requested');
  return tiles.map(validTileAddress);
}

/** A viewer tile's level, column or row: whole and non-negative (which exist is the slide's to say). */
export function validTileIndex(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) invalid(`${field} ${value} must be a whole, non-negative number`);
  return value;
}

/** Ground-truth classes to count: unset or empty is the glomerulus names; each named class must be a real name. */
export function validTruthClasses(classes: readonly string[]): string[] | undefined {
  if (classes.length === 0) return undefined;
  if (classes.length > 100) invalid(`annotations.truth_classes names ${classes.length} classes; at most 100`);
  return classes.map((name, index) => {
    const trimmed = name.trim();
    if (trimmed === '') invalid(`annotations.truth_classes[${index}] is empty; name a class (or "*" for every shape)`);
    if (trimmed.length > 200)
      invalid(`annotations.truth_classes[${index}] is ${trimmed.length} characters long; at most 200`);
    return trimmed;
  });
}

/** Bounds of one SaveAnnotations: a slide's reviewed regions and glomeruli (GetAnnotations answers them under 1 MiB). */
export const ANNOTATION_LIMITS = {
  regions: 1_000,
  glomeruli: 5_000,
  verticesPerPolygon: 10_000,
  /** Outlines, glomeruli and holes together: 16 bytes each on the wire, 640 KB at most. */
  vertices: 40_000,
  idLength: 200,
  noteLength: 1_000,
} as const;

/** A SaveAnnotations' sizes, counted before anything is built from it or checked point by point. */
/** `rings`: the point count of each ring of a region, its outline, glomeruli and holes. */
export function validAnnotationCounts(regions: ReadonlyArray<{ rings: readonly number[]; glomeruli: number }>): void {
  const L = ANNOTATION_LIMITS;
  if (regions.length > L.regions) invalid(`the save holds ${regions.length} reviewed regions; at most ${L.regions}`);
  const glomeruli = regions.reduce((sum, region) => sum + region.glomeruli, 0);
  if (glomeruli > L.glomeruli) invalid(`the save holds ${glomeruli} glomeruli; at most ${L.glomeruli}`);
  const vertices = regions.reduce((sum, region) => sum + region.rings.reduce((a, n) => a + n, 0), 0);
  if (vertices > L.vertices)
    invalid(`the save holds ${vertices} vertices in all; at most ${L.vertices} (simplify the outlines)`);
}

/** A ring from its wire form (x0, y0, x1, y1, ...): x and y in pairs (the rest is validRing's). */
export function ringFromWire(field: string, xy: readonly number[]): Array<[number, number]> {
  if (xy.length % 2 !== 0) invalid(`${field} has ${xy.length} coordinates; x and y come in pairs`);
  const ring: Array<[number, number]> = [];
  for (let i = 0; i < xy.length; i += 2) ring.push([xy[i], xy[i + 1]]);
  return ring;
}

/** A polygon ring: 3 to 10,000 points, each finite level-0 pixels within +-2^30. */
export function validRing(field: string, ring: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  if (ring.length < 3) invalid(`${field} has ${ring.length} points; a polygon needs at least 3`);
  if (ring.length > ANNOTATION_LIMITS.verticesPerPolygon)
    invalid(`${field} has ${ring.length} points; at most ${ANNOTATION_LIMITS.verticesPerPolygon} (simplify it)`);
  return ring.map(([x, y], index) => {
    if (!Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x) > MAX_COORDINATE || Math.abs(y) > MAX_COORDINATE)
      invalid(`${field} point ${index} (${x}, ${y}) must be finite level-0 pixels within +-${MAX_COORDINATE}`);
    return [x, y];
  });
}

/** A version number where one is asked for: unset is "the latest"; set, a whole number from 1. */
export function validVersion(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) invalid(`${field} ${value} must be a version number from 1`);
  return value;
}

/** The version a save was edited from: 0 (the slide had none) or a version number. */
export function validBaseVersion(value: number): number {
  if (!Number.isInteger(value) || value < 0)
    invalid(`base_version ${value} must be the version the edit started from (0 when the slide had none)`);
  return value;
}

/** A bounded free text (a region id, a note). */
export function validText(field: string, value: string, maxLength: number): string {
  if (value.length > maxLength) invalid(`${field} is ${value.length} characters long; at most ${maxLength}`);
  return value;
}
