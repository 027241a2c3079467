/**
 * How an element's predictions look: outlines only or filled (PredictionLayer.outline), and the probability heatmap
 * (a ProbabilityLayer following the same tiles) with its opacity, on whatever map the predictions are on. Read from
 * the host's `outline`, `heatmap` and `heatmapOpacity` after each update.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { PredictionLayer } from '../layers/prediction-layer.js';
import { ProbabilityLayer } from '../layers/probability-layer.js';

export interface DisplayHost extends ReactiveControllerHost {
  outline: boolean;
  heatmap: boolean;
  heatmapOpacity: number;
}

export class DisplayController implements ReactiveController {
  readonly probability: ProbabilityLayer;

  constructor(
    private readonly host: DisplayHost,
    private readonly predictions: PredictionLayer,
  ) {
    this.probability = new ProbabilityLayer(predictions);
    host.addController(this);
  }

  /** After the host's own updated(), which attaches the predictions to a new map. */
  hostUpdated(): void {
    void this.host.updateComplete.then(() => this.sync());
  }

  hostDisconnected(): void {
    this.probability.detach();
  }

  sync(): void {
    const { outline, heatmap, heatmapOpacity } = this.host;
    if (this.predictions.outline !== outline) this.predictions.outline = outline;
    const map = this.predictions.attachedMap;
    if (this.probability.attachedMap !== map) {
      if (map) this.probability.attach(map);
      else this.probability.detach();
    }
    this.probability.layer.setVisible(heatmap);
    this.probability.layer.setOpacity(heatmapOpacity);
  }
}
