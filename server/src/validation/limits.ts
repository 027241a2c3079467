/**
 * The cost bounds the server enforces before it starts any work. One table, so gRPC, gRPC-Web, the service and
 * the workers agree; `serve` can override each from its config file.
 */
export interface ServingLimits {
  /** Largest request message over gRPC and gRPC-Web, after decompression (annotations of a whole slide). */
  maxMessageBytes: number;
  /**
   * Request bytes in flight at once, both ports together (validation/request-byte-budget.ts): a request holds its
   * message's length from its length prefix until its call ends; past the budget, RESOURCE_EXHAUSTED.
   */
  maxInFlightRequestBytes: number;
  /** Model tiles one ScoreSlide may cover, and one StreamTiles may list: beyond it, RESOURCE_EXHAUSTED. */
  maxTilesPerRequest: number;
  /** Cells of the mean-per-tile Dice grid over the scored region. */
  maxDiceCells: number;
  /** Pixels of one Dice grid cell (two such byte masks are allocated). */
  maxDiceCellPixels: number;
  /** Ground-truth polygons in one request. */
  maxPolygons: number;
  /** Vertices of one ground-truth polygon (all rings). */
  maxVerticesPerPolygon: number;
  /** Vertices of all ground-truth polygons of one request. */
  maxVertices: number;
  /** Decoded bytes of one stored slide tile or strip a read may touch. */
  maxDecodedTileBytes: number;
  /** Stored tiles or strips one read may have to decode (one-row strips make a single tile cost thousands). */
  maxStoredBlocksPerRead: number;
  /** CPU budget of one off-thread task (parse, Dice): past it the worker is stopped, DEADLINE_EXCEEDED. */
  maxTaskMs: number;
  /**
   * A reply message the client has not taken for this long (it stopped reading) resets the call's stream (HTTP/2
   * ENHANCE_YOUR_CALM: RESOURCE_EXHAUSTED in the gRPC spec) and stops its work. On the HTTP port (gRPC-Web, tiles,
   * files: one reply at a time per connection) pending output with no progress for this long resets the connection.
   */
  maxWriteStallMs: number;
}

export const DEFAULT_LIMITS: ServingLimits = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxInFlightRequestBytes: 256 * 1024 * 1024,
  maxTilesPerRequest: 20_000,
  maxDiceCells: 10_000,
  maxDiceCellPixels: 16 * 1024 * 1024,
  maxPolygons: 200_000,
  maxVerticesPerPolygon: 10_000,
  maxVertices: 2_000_000,
  maxDecodedTileBytes: 16 * 1024 * 1024,
  maxStoredBlocksPerRead: 256,
  maxTaskMs: 60_000,
  maxWriteStallMs: 60_000,
};

export function resolveLimits(overrides: Partial<ServingLimits> = {}): ServingLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof ServingLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new Error(`unknown limit '${key}'`);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`limit ${key} must be a positive number, got ${value}`);
    limits[key] = value;
  }
  return limits;
}
