/** A tile's probability map (context margin included) to the level-0 polygons of its kept centre. */
import type { GlomerulusPolygon } from './geometry.js';
import type { ProbabilityMap, TraceOptions } from './segmenter.js';
import { cropProbability, cropRows } from './preprocess.js';
import { binaryMaskToPolygons, maskToPolygons } from './mask-to-polygons.js';
import { separateTouching } from './separate-touching.js';

/**
 * The polygons of the kept centre. Touching glomeruli are parted on the whole map, margin included, so that a pair
 * across a tile border is parted alike in both tiles (each sees both cores) and the two halves join as two; so is
 * the blob a core must reach, so that a glomerulus whose core lies in the margin keeps its piece of the centre.
 * A re-cut at another threshold passes the same whole map (the service keeps it), and so cuts as the model would.
 */
export function traceTile(map: ProbabilityMap, options: TraceOptions): GlomerulusPolygon[] {
  const { keepX, keepY, keepWidth, keepHeight, threshold, seedThreshold, requireCore, transform, minArea } = options;
  const kept = cropProbability(map, keepX, keepY, keepWidth, keepHeight);
  if (seedThreshold === undefined || !(seedThreshold > threshold))
    return maskToPolygons(kept, threshold, transform, { minArea });
  const minSeedPixels = Math.max(1, minArea / (transform.scale * transform.scale));
  const whole = separateTouching(map, { threshold, seedThreshold, minSeedPixels, requireCore });
  const mask = cropRows(whole, map.width, keepX, keepY, keepWidth, keepHeight);
  return binaryMaskToPolygons(mask, keepWidth, keepHeight, transform, { minArea }, kept);
}
