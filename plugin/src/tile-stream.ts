/**
 * View -> model tiles -> one StreamTiles call. The view's tiles are asked for centre first; when the view changes
 * so that other tiles are wanted, the open stream is aborted at once and a new one asks for the tiles still
 * missing. A tile is accepted once only, so nothing is drawn twice.
 */
import type { GlomerulusPolygon, Rect } from '@glomseg/shared/geometry.js';
import { tileKey, tilesInRect, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';

export interface ReceivedTile {
  tile: TileAddress;
  bounds: Rect;
  polygons: GlomerulusPolygon[];
  cached: boolean;
  /** Share of the tile that is stained tissue (0 when the server does not say). */
  tissueFraction?: number;
}

/** Opens one server stream for these tiles (in this order); must stop when the signal aborts. */
export type TileStreamSource = (tiles: TileAddress[], signal: AbortSignal) => AsyncIterable<ReceivedTile>;

export interface TileStreamState {
  /** Tiles of the current view received, and tiles the view covers. */
  received: number;
  total: number;
  streaming: boolean;
  limited: boolean;
}

export interface TileStreamOptions {
  grid: TileGrid;
  source: TileStreamSource;
  onTile(tile: ReceivedTile): void;
  onState(state: TileStreamState): void;
  onError(error: unknown): void;
  /** Most tiles asked for at once; a wider view gets its centre tiles only. */
  maxTiles?: number;
}

interface OpenStream {
  controller: AbortController;
  pending: Set<string>;
}

export class TileStreamController {
  readonly grid: TileGrid;
  private readonly options: TileStreamOptions;
  private readonly receivedTiles = new Set<string>();
  private stream: OpenStream | undefined;
  private viewTiles: TileAddress[] = [];
  private limited = false;
  private disposed = false;
  /** Streams opened and streams aborted because the view moved on (for the UI and tests). */
  streamsOpened = 0;
  streamsAborted = 0;

  constructor(options: TileStreamOptions) {
    this.options = options;
    this.grid = options.grid;
  }

  get received(): ReadonlySet<string> {
    return this.receivedTiles;
  }

  get streaming(): boolean {
    return this.stream !== undefined;
  }

  /**
   * The view is now `rect` (level-0 pixels). Aborts the open stream when it asks for other tiles than the view
   * still needs; with `start`, opens a stream for the missing tiles (pass false while the view is still moving).
   */
  setView(rect: Rect, start = true): void {
    if (this.disposed) return;
    const maxTiles = this.options.maxTiles ?? 400;
    const all = tilesInRect(this.grid, rect);
    this.limited = all.length > maxTiles;
    this.viewTiles = all.slice(0, maxTiles);
    const missing = this.viewTiles.filter((t) => !this.receivedTiles.has(tileKey(t)));
    const open = this.stream;
    if (open && !sameKeys(open.pending, missing)) this.abortStream();
    if (start && !this.stream && missing.length > 0) void this.openStream(missing);
    this.emitState();
  }

  /** Aborts the open stream, if any. */
  abortStream(): void {
    const open = this.stream;
    if (!open) return;
    this.stream = undefined;
    this.streamsAborted++;
    open.controller.abort();
  }

  dispose(): void {
    this.abortStream();
    this.disposed = true;
  }

  private async openStream(tiles: TileAddress[]): Promise<void> {
    const controller = new AbortController();
    const open: OpenStream = { controller, pending: new Set(tiles.map(tileKey)) };
    this.stream = open;
    this.streamsOpened++;
    try {
      for await (const result of this.options.source(tiles, controller.signal)) {
        if (controller.signal.aborted) break;
        const key = tileKey(result.tile);
        open.pending.delete(key);
        if (this.receivedTiles.has(key)) continue;
        this.receivedTiles.add(key);
        this.options.onTile(result);
        this.emitState();
      }
    } catch (error) {
      if (!controller.signal.aborted) this.options.onError(error);
    } finally {
      if (this.stream === open) {
        this.stream = undefined;
        this.emitState();
      }
    }
  }

  private emitState(): void {
    const received = this.viewTiles.filter((t) => this.receivedTiles.has(tileKey(t))).length;
    this.options.onState({ received, total: this.viewTiles.length, streaming: this.stream !== undefined, limited: this.limited });
  }
}

function sameKeys(pending: ReadonlySet<string>, tiles: TileAddress[]): boolean {
  return pending.size === tiles.length && tiles.every((t) => pending.has(tileKey(t)));
}
