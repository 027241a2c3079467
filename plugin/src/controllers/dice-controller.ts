/**
 * Live Dice inside an element: scores the prediction layer against the annotation layer as tiles arrive (a
 * LiveDiceScorer: each window counted again whenever the joined polygons over it change), colours both layers'
 * features by their match class, and sends `glomseg-dice` once per change of the figures, never twice the same.
 * Scoring runs in slices between frames (hundreds of large tiles scored at once froze the page for seconds), at
 * most every 250 ms while tiles stream, and at once when the view's last tile is in.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Polygon } from '@glomseg/shared/geometry.js';
import type { TileAddress } from '@glomseg/shared/tile-grid.js';
import { glomsegEvent } from '../events.js';
import { LiveDiceScorer, type LiveDiceMetrics, type LiveDiceResult } from '../dice/live-dice-scorer.js';
import type { PredictionChange } from '../prediction-store.js';
import type { PredictionLayer } from '../layers/prediction-layer.js';
import type { AnnotationLayer } from '../layers/annotation-layer.js';

const PUBLISH_INTERVAL_MS = 250;
/** Longest stretch of scoring between two frames. */
const SCORE_SLICE_MS = 8;

export class DiceController implements ReactiveController {
  /** The figures last sent, when annotations are loaded and a tile is scored. */
  metrics?: LiveDiceMetrics;
  private truth?: readonly Polygon[];
  private scorer?: LiveDiceScorer;
  private timer?: ReturnType<typeof setTimeout>;
  /** Tiles or polygons changed since the last figures. */
  private changed = false;
  private sent = '';

  constructor(
    private readonly host: ReactiveControllerHost & HTMLElement,
    private readonly predictions: PredictionLayer,
    private readonly annotations: AnnotationLayer,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.stop();
  }

  /** Ground truth to score against; undefined: none (the figures and colours go). */
  setTruth(truth: readonly Polygon[] | undefined): void {
    this.truth = truth;
    this.restart({ keepFigures: false });
  }

  /**
   * Scoring starts again over every tile the current cut has received: a new session (its figures go at once) or
   * a new threshold's cut (the figures stay until the new ones are in).
   */
  restart(options: { keepFigures: boolean }): void {
    this.stop();
    this.scorer = undefined;
    if (!options.keepFigures || !this.truth) this.forget();
    const session = this.predictions.session;
    if (!session || !this.truth) return;
    this.scorer = new LiveDiceScorer(session.model.grid, this.truth);
    for (const key of session.controller.received) {
      const [col, row] = key.split(',').map(Number);
      this.scorer.addTile({ col, row });
    }
    this.changed = true;
    this.schedule(0);
  }

  /** A tile arrived and the joined polygons changed as `change` says. */
  tileArrived(tile: TileAddress, change: PredictionChange): void {
    if (!this.scorer) return;
    this.scorer.predictionsChanged(change);
    this.scorer.addTile(tile);
    this.changed = true;
    this.schedule(PUBLISH_INTERVAL_MS);
  }

  /** The view's last tile is in: its figures now, not at the next interval. */
  viewComplete(): void {
    if (this.scorer && this.changed) this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.timer !== undefined) {
      if (delay > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => this.step(), delay);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One slice of scoring; the figures once nothing is owed. */
  private step(): void {
    this.timer = undefined;
    const scorer = this.scorer;
    const session = this.predictions.session;
    if (!scorer || !session) return;
    const started = performance.now();
    if (!scorer.score(session.store.polygons(), () => performance.now() - started < SCORE_SLICE_MS)) {
      this.timer = setTimeout(() => this.step(), 0);
      return;
    }
    this.changed = false;
    // Nothing scored yet is no Dice at all (an empty score would read as a perfect 1).
    if (scorer.tilesScored === 0) return;
    const entries = session.store.all();
    const result = scorer.result(entries.map((entry) => entry.polygon));
    this.colour(
      entries.map((entry) => entry.id),
      result,
    );
    const figures = JSON.stringify(result.metrics);
    if (figures === this.sent) return;
    this.sent = figures;
    this.metrics = result.metrics;
    this.host.requestUpdate();
    this.host.dispatchEvent(glomsegEvent('glomseg-dice', result.metrics));
  }

  private forget(): void {
    this.changed = false;
    this.sent = '';
    if (this.metrics) this.host.requestUpdate();
    this.metrics = undefined;
    this.colour([], undefined);
  }

  /** Each feature's match class on the map (undefined: not scored). */
  private colour(ids: readonly string[], result: LiveDiceResult | undefined): void {
    const source = this.predictions.source;
    if (!result) source.getFeatures().forEach((feature) => feature.set('class', undefined, true));
    else ids.forEach((id, i) => source.getFeatureById(id)?.set('class', result.predictedClasses[i], true));
    source.changed();
    if (result) this.annotations.classify(result.truthClasses);
  }
}
