/** OpenLayers styles for predictions and annotations, coloured by their match class once Dice is known. */
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';
import type { FeatureLike } from 'ol/Feature.js';
import { CLASS_COLOURS } from '@glomseg/shared/class-colours.js';

export { CLASS_COLOURS };

export interface LegendEntry {
  cls: FeatureClass;
  label: string;
  /** Ground truth is drawn dashed, predictions solid and filled. */
  dashed: boolean;
  filled: boolean;
  /** Only meaningful once annotations are loaded and tiles scored. */
  scored: boolean;
}

/** Every way a polygon can look on the map, in the order the legend lists them. */
export const LEGEND: readonly LegendEntry[] = [
  { cls: 'prediction', label: 'Predicted, not scored yet', dashed: false, filled: true, scored: false },
  { cls: 'annotation', label: 'Ground truth, not scored yet', dashed: true, filled: false, scored: false },
  {
    cls: 'true-positive',
    label: 'True positive (IoU ≥ 0.5): prediction solid, its ground truth dashed',
    dashed: false,
    filled: true,
    scored: true,
  },
  {
    cls: 'false-positive',
    label: 'False positive: predicted, not in the ground truth',
    dashed: false,
    filled: true,
    scored: true,
  },
  { cls: 'missed', label: 'Missed: ground truth the model did not find', dashed: true, filled: true, scored: true },
];

export type FeatureClass = keyof typeof CLASS_COLOURS;

function makeStyle(colour: string, fillAlpha: number, dashed: boolean): Style {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  return new Style({
    stroke: new Stroke({ color: colour, width: 2, lineDash: dashed ? [6, 4] : undefined }),
    fill: new Fill({ color: `rgba(${r}, ${g}, ${b}, ${fillAlpha})` }),
  });
}

const predictionStyles = new Map<string, Style>();
const annotationStyles = new Map<FeatureClass, Style>();

/**
 * Predictions: filled, solid outline; cyan until scored, then blue (true positive) or amber (false positive).
 * `outline`: the outline alone, so the morphology under it shows (the fill stays, fully transparent, so the
 * polygon's inside still answers the pointer).
 */
export function predictionStyle(feature: FeatureLike, options: { outline?: boolean } = {}): Style {
  const cls = (feature.get('class') as FeatureClass | undefined) ?? 'prediction';
  const key = `${cls}${options.outline ? ':outline' : ''}`;
  let style = predictionStyles.get(key);
  if (!style) predictionStyles.set(key, (style = makeStyle(CLASS_COLOURS[cls], options.outline ? 0 : 0.25, false)));
  return style;
}

/** Annotations: dashed outline; magenta and filled when missed, blue when found, yellow when not scored yet. */
export function annotationStyle(feature: FeatureLike): Style {
  const cls = (feature.get('class') as FeatureClass | undefined) ?? 'annotation';
  let style = annotationStyles.get(cls);
  if (!style) annotationStyles.set(cls, (style = makeStyle(CLASS_COLOURS[cls], cls === 'missed' ? 0.2 : 0, true)));
  return style;
}
