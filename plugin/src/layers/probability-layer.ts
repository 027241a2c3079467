/**
 * The probability heatmap: each predicted glomerulus filled by its mean probability on the viridis scale
 * (probability-scale.ts), as a layer of its own over the predictions' source, with its own opacity, under the
 * predictions' outlines. It is per glomerulus because that is what the server sends: a TileResult carries each
 * polygon's mean_probability but not the tile's probability raster, which the server keeps (ProbabilityCache) but
 * does not send; a per-pixel heatmap needs that raster in the API.
 */
import type OlMap from 'ol/Map.js';
import VectorSource from 'ol/source/Vector.js';
import type { EventsKey } from 'ol/events.js';
import { unByKey } from 'ol/Observable.js';
import VectorLayer from 'ol/layer/Vector.js';
import Fill from 'ol/style/Fill.js';
import Style from 'ol/style/Style.js';
import type { FeatureLike } from 'ol/Feature.js';
import { probabilityRgb } from '../probability-scale.js';

/** Probabilities are drawn in steps of 1/STEPS (one cached style per step). */
const STEPS = 100;
const styles = new Map<number, Style>();

/** A fill in the scale's colour of the feature's mean probability (opaque: the layer's opacity blends it). */
export function probabilityStyle(feature: FeatureLike): Style {
  const p = feature.get('meanProbability') as number | undefined;
  const step = Math.round((Number.isFinite(p) ? p! : 0) * STEPS);
  let style = styles.get(step);
  if (!style) {
    const [r, g, b] = probabilityRgb(step / STEPS);
    styles.set(step, (style = new Style({ fill: new Fill({ color: `rgb(${r}, ${g}, ${b})` }) })));
  }
  return style;
}

export class ProbabilityLayer {
  readonly layer: VectorLayer;
  /** The predictions' features, mirrored: drawing this layer must not ask the predictions' source to load. */
  private readonly mirror = new VectorSource();
  private readonly keys: EventsKey[];
  private map?: OlMap;

  /** `source`: the predictions' source (PredictionLayer.source): the heatmap shows what they show. */
  constructor(source: VectorSource, opacity = 0.7) {
    this.mirror.addFeatures(source.getFeatures());
    this.keys = [
      source.on('addfeature', (event) => event.feature && this.mirror.addFeature(event.feature)),
      source.on('removefeature', (event) => event.feature && this.mirror.removeFeature(event.feature)),
      source.on('clear', () => this.mirror.clear(true)),
    ];
    this.layer = new VectorLayer({
      source: this.mirror,
      style: probabilityStyle,
      opacity,
      visible: false,
      zIndex: 18,
      updateWhileAnimating: true,
      updateWhileInteracting: true,
      properties: { name: 'glomseg-probability' },
    });
  }

  get attachedMap(): OlMap | undefined {
    return this.map;
  }

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
  }

  detach(): void {
    this.map?.removeLayer(this.layer);
    this.map = undefined;
  }

  /** Stops mirroring the predictions' source and leaves the map. */
  dispose(): void {
    unByKey(this.keys);
    this.detach();
    this.mirror.clear(true);
  }
}
