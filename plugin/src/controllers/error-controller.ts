/**
 * The errors an element shows, and the `glomseg-error` event sent for each as it happens: the last error of its
 * predictions or of its annotations (the next result of the same part replaces it; another part's error stays),
 * and a failure of the map's image tiles (a token server's 401), kept apart because polygons that still stream do
 * not cure it.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type OlMap from 'ol/Map.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { glomsegEvent, type ErrorEventDetail } from '../events.js';
import { describeError } from '../glomseg-client.js';
import { TileErrorWatch } from '../auth/tile-errors.js';

export type ErrorSource = 'predictions' | 'annotations';

export class ErrorController implements ReactiveController {
  private error?: ErrorEventDetail;
  private from?: ErrorSource;
  private tileError?: ErrorEventDetail;
  private readonly tiles = new TileErrorWatch({
    onFailure: ({ code, reason }) => {
      this.tileError = { code, message: reason };
      this.host.requestUpdate();
      this.host.dispatchEvent(glomsegEvent('glomseg-error', this.tileError));
    },
    onRecovered: () => {
      this.tileError = undefined;
      this.host.requestUpdate();
    },
  });

  /** `serverUrl()` names the server in messages about errors that are not ours (a network failure, say). */
  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly serverUrl: () => string,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.tiles.detach();
  }

  /** The error to show: a part's before the tiles'. */
  get shown(): ErrorEventDetail | undefined {
    return this.error ?? this.tileError;
  }

  show(error: unknown, from: ErrorSource): void {
    this.from = from;
    this.error =
      error instanceof GlomsegError
        ? { code: error.code, message: error.message }
        : describeError(error, this.serverUrl());
    this.host.requestUpdate();
    this.host.dispatchEvent(glomsegEvent('glomseg-error', this.error));
  }

  /** An error of `from` is over (its next result came); another part's error stays. */
  clear(from: ErrorSource): void {
    if (this.from === from) this.forget();
  }

  /** A new session starts with no error of the old one. */
  forget(): void {
    this.error = undefined;
    this.from = undefined;
    this.host.requestUpdate();
  }

  watchTiles(map: OlMap | undefined): void {
    if (map) this.tiles.attach(map);
    else this.tiles.detach();
  }
}
