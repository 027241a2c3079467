/** How corrections look over the predictions: judged glomeruli by their verdict, reviewed regions as dashed frames. */
import Fill from 'ol/style/Fill.js';
import Stroke from 'ol/style/Stroke.js';
import Style from 'ol/style/Style.js';
import type { FeatureLike } from 'ol/Feature.js';
import type { CorrectionKind } from './corrections.js';

/** Colour and look per kind; regions have no fill, so a click inside one still reaches the glomeruli under it. */
const LOOKS: Record<CorrectionKind, { colour: string; fill?: string; dash?: number[]; width: number }> = {
  accepted: { colour: '#2ca02c', fill: 'rgba(44, 160, 44, 0.15)', width: 3 },
  edited: { colour: '#1f77ff', fill: 'rgba(31, 119, 255, 0.15)', width: 3 },
  drawn: { colour: '#9b30ff', fill: 'rgba(155, 48, 255, 0.15)', width: 3 },
  deleted: { colour: '#e02020', fill: 'rgba(224, 32, 32, 0.3)', dash: [6, 4], width: 3 },
  region: { colour: '#ffd21f', dash: [12, 6], width: 3 },
};

const STYLES = Object.fromEntries(
  Object.entries(LOOKS).map(([kind, look]) => [
    kind,
    new Style({
      stroke: new Stroke({ color: look.colour, width: look.width, lineDash: look.dash }),
      fill: look.fill ? new Fill({ color: look.fill }) : undefined,
      zIndex: kind === 'region' ? 0 : 1,
    }),
  ]),
) as Record<CorrectionKind, Style>;

export function correctionStyle(feature: FeatureLike): Style {
  return STYLES[feature.get('kind') as CorrectionKind] ?? STYLES.drawn;
}
