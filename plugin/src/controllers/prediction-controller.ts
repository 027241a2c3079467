/**
 * The prediction layer inside an element: its streaming progress and connection state as the element's state, and
 * its tiles and progress as the element's `glomseg-tile` and `glomseg-progress` events. A progress event is sent
 * only when the progress changed (a zoom's frames used to send dozens of identical ones).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { PredictionChange } from '../prediction-store.js';
import type { ReceivedTile } from '../tile-stream.js';
import { glomsegEvent, type ProgressEventDetail } from '../events.js';
import { PredictionLayer, type PredictionSession } from '../layers/prediction-layer.js';

export interface PredictionHooks {
  /** A session started (slide and model known) or ended (undefined). */
  onSession(session: PredictionSession | undefined): void;
  /** A new threshold's cut began on the same session. */
  onCut(session: PredictionSession): void;
  onTile(result: ReceivedTile, session: PredictionSession, change: PredictionChange): void;
  /** Every tile of the view has arrived and no stream is open. */
  onViewComplete(session: PredictionSession): void;
  /** A stream started: an error shown earlier is over. */
  onStreaming(): void;
  onError(error: unknown): void;
}

const NO_PROGRESS: ProgressEventDetail = { received: 0, total: 0, streaming: false, limited: false, polygons: 0 };

export class PredictionController implements ReactiveController {
  readonly layer: PredictionLayer;
  progress: ProgressEventDetail = NO_PROGRESS;
  /** Connecting: slide and model asked for, not known yet. */
  loading = false;

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    hooks: PredictionHooks,
  ) {
    host.addController(this);
    this.layer = new PredictionLayer({
      onSession: (session) => hooks.onSession(session),
      onCut: (session) => hooks.onCut(session),
      onTile: (result, session, change) => {
        this.host.dispatchEvent(
          glomsegEvent('glomseg-tile', {
            tile: result.tile,
            bounds: result.bounds,
            polygons: result.polygons,
            cached: result.cached,
          }),
        );
        hooks.onTile(result, session, change);
      },
      onState: (state, session) => {
        this.setProgress({ ...state, polygons: session.store.size });
        if (state.streaming) hooks.onStreaming();
        if (!state.streaming && state.received === state.total) {
          this.layer.dropStale();
          hooks.onViewComplete(session);
        }
      },
      onError: (error) => {
        this.setLoading(false);
        hooks.onError(error);
      },
      onLoading: (loading) => this.setLoading(loading),
    });
  }

  hostDisconnected(): void {
    this.layer.dispose();
  }

  /** A new session: nothing received yet. */
  resetProgress(): void {
    this.setProgress(NO_PROGRESS);
  }

  private setProgress(next: ProgressEventDetail): void {
    const last = this.progress;
    if (
      next.received === last.received &&
      next.total === last.total &&
      next.streaming === last.streaming &&
      next.limited === last.limited &&
      next.polygons === last.polygons
    )
      return;
    this.progress = next;
    this.host.requestUpdate();
    if (next !== NO_PROGRESS) this.host.dispatchEvent(glomsegEvent('glomseg-progress', next));
  }

  private setLoading(loading: boolean): void {
    if (this.loading === loading) return;
    this.loading = loading;
    this.host.requestUpdate();
  }
}
