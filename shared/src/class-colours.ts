/** The colours of a polygon's match class, shared by the viewer (plugin feature-styles.ts) and report.html. */
import { PREDICTED_CLASS } from './annotations.js';

function rgbHex(rgb: readonly number[]): string {
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Told apart by people with any of the three colour-vision deficiencies, not by hue alone: true positive, false
 * positive and missed stay >= 20 CIEDE2000 apart under full protan, deutan and tritan simulation (checked in
 * test/plugin/feature-styles.test.ts). Predictions are filled with a solid outline, ground truth dashed.
 */
export const CLASS_COLOURS = {
  prediction: rgbHex(PREDICTED_CLASS.color),
  'true-positive': '#1e88e5',
  'false-positive': '#ffc107',
  missed: '#d81b60',
  annotation: '#ffeb3b',
  unscored: '#ffeb3b',
} as const;
