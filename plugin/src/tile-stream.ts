/**
 * Requested model tiles -> one StreamTiles call at a time. The prediction layer's loader requests tiles (each once
 * until it arrives) and says which tiles the view shows, centre first; the requested tiles the view shows are asked
 * for in one stream. A stream still asking for tiles the view no longer shows is aborted at once (the server drops
 * the work), and a new one asks for the requested tiles not received yet. A tile is accepted once only, so nothing
 * is drawn twice.
 *
 * How the view moves decides when: while the user drags the map, streams are only aborted; while the map moves by
 * itself (a fling, a zoom), streams open but are not aborted (their tiles lie on its path, and a tile that only
 * passes through the view costs less than a stream thrown away with a tile half done); at rest, both.
 */
import type { TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { tileKey, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';

/** What the plugin keeps of a tile's result (the service's one shape, TileOutcome). */
export type ReceivedTile = Pick<
  TileOutcome,
  'tile' | 'bounds' | 'polygons' | 'cached' | 'tissueArea' | 'probabilityPng'
>;

/** Opens one server stream for these tiles (in this order); must stop when the signal aborts. */
export type TileStreamSource = (tiles: TileAddress[], signal: AbortSignal) => AsyncIterable<ReceivedTile>;

export interface TileStreamState {
  /** Tiles of the current view received, and tiles the view covers. */
  received: number;
  total: number;
  streaming: boolean;
  limited: boolean;
}

/** How the view is moving: the user drags it, it animates by itself (a fling, a zoom), or it is at rest. */
export type ViewMotion = 'dragged' | 'animated' | 'still';

/** The model tiles a view shows, centre first, and whether it shows more than are asked for at once. */
export interface ViewTiles {
  tiles: TileAddress[];
  limited: boolean;
}

export interface TileStreamOptions {
  grid: TileGrid;
  source: TileStreamSource;
  onTile(tile: ReceivedTile): void;
  onState(state: TileStreamState): void;
  onError(error: unknown): void;
}

interface OpenStream {
  controller: AbortController;
  pending: Set<string>;
}

export class TileStreamController {
  readonly grid: TileGrid;
  private readonly options: TileStreamOptions;
  private readonly receivedTiles = new Set<string>();
  /** Requested and not received yet. */
  private readonly requested = new Set<string>();
  private stream: OpenStream | undefined;
  private view: ViewTiles = { tiles: [], limited: false };
  private motion: ViewMotion = 'dragged';
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

  /** The loader wants this tile; it is streamed once the view shows it and streams may start. */
  request(tile: TileAddress): void {
    const key = tileKey(tile);
    if (!this.receivedTiles.has(key)) this.requested.add(key);
  }

  /**
   * The view now shows these tiles. Unless it animates, aborts the open stream when it still asks for a tile the
   * view does not show; unless it is dragged, opens a stream for the requested tiles it shows when none is open.
   * Tiles the view shows beyond an open stream's are asked for when it ends.
   */
  setView(view: ViewTiles, motion: ViewMotion = 'still'): void {
    if (this.disposed) return;
    this.view = view;
    this.motion = motion;
    const shown = new Set(view.tiles.map(tileKey));
    const open = this.stream;
    if (open && motion !== 'animated' && [...open.pending].some((key) => !shown.has(key))) this.abortStream();
    this.openNext();
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

  private openNext(): void {
    if (this.motion === 'dragged' || this.stream || this.disposed) return;
    const tiles = this.view.tiles.filter((t) => this.requested.has(tileKey(t)));
    if (tiles.length > 0) void this.openStream(tiles);
  }

  private async openStream(tiles: TileAddress[]): Promise<void> {
    const controller = new AbortController();
    const open: OpenStream = { controller, pending: new Set(tiles.map(tileKey)) };
    this.stream = open;
    this.streamsOpened++;
    let failed = false;
    try {
      for await (const result of this.options.source(tiles, controller.signal)) {
        if (controller.signal.aborted) break;
        const key = tileKey(result.tile);
        open.pending.delete(key);
        if (this.receivedTiles.has(key)) continue;
        this.receivedTiles.add(key);
        this.requested.delete(key);
        this.options.onTile(result);
        this.emitState();
      }
    } catch (error) {
      failed = !controller.signal.aborted;
      if (failed) this.options.onError(error);
    } finally {
      if (this.stream === open) {
        this.stream = undefined;
        // The next view's tiles once this stream is done; not after an error or tiles left unanswered (that would
        // ask a failing server again at once): the next view change asks again.
        if (!failed && open.pending.size === 0) this.openNext();
        this.emitState();
      }
    }
  }

  private emitState(): void {
    const received = this.view.tiles.filter((t) => this.receivedTiles.has(tileKey(t))).length;
    this.options.onState({
      received,
      total: this.view.tiles.length,
      streaming: this.stream !== undefined,
      limited: this.view.limited,
    });
  }
}
