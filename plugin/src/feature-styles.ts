/** OpenLayers styles for predictions and annotations, coloured by their match class once Dice is known. */
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';
import type { FeatureLike } from 'ol/Feature.js';

export const CLASS_COLOURS = {
  prediction: '#00b4ff',
  'true-positive': '#18c93a',
  'false-positive': '#ff9800',
  missed: '#ff1744',
  annotation: '#ffeb3b',
  unscored: '#ffeb3b',
} as const;

export type FeatureClass = keyof typeof CLASS_COLOURS;

function makeStyle(colour: string, fillAlpha: number, dashed: boolean): Style {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
  return new Style({
    stroke: new Stroke({ color: colour, width: 2, lineDash: dashed ? [6, 4] : undefined }),
    fill: new Fill({ color: `rgba(${r}, ${g}, ${b}, ${fillAlpha})` }),
  });
}

const predictionStyles = new Map<FeatureClass, Style>();
const annotationStyles = new Map<FeatureClass, Style>();

/** Predictions: filled; blue until scored, then green (true positive) or orange (false positive). */
export function predictionStyle(feature: FeatureLike): Style {
  const cls = (feature.get('class') as FeatureClass | undefined) ?? 'prediction';
  let style = predictionStyles.get(cls);
  if (!style) predictionStyles.set(cls, (style = makeStyle(CLASS_COLOURS[cls], 0.25, false)));
  return style;
}

/** Annotations: dashed outline; red when missed, green when found, yellow when not scored yet. */
export function annotationStyle(feature: FeatureLike): Style {
  const cls = (feature.get('class') as FeatureClass | undefined) ?? 'annotation';
  let style = annotationStyles.get(cls);
  if (!style) annotationStyles.set(cls, (style = makeStyle(CLASS_COLOURS[cls], cls === 'missed' ? 0.2 : 0, true)));
  return style;
}
