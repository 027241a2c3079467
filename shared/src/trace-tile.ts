/** A tile's probability map (context margin included) to the level-0 polygons of its kept centre. */
import type { GlomerulusPolygon } from './geometry.js';
import type { ProbabilityMap } from './segmenter.js';
import { cropProbability } from './preprocess.js';
import { maskToPolygons, type MapTransform } from './mask-to-polygons.js';

export interface TraceOptions {
  /** The kept centre inside the map. */
  keepX: number;
  keepY: number;
  keepWidth: number;
  keepHeight: number;
  threshold: number;
  /** Where the kept centre sits on the slide. */
  transform: MapTransform;
  /** Level-0 square pixels below which a component is dropped. */
  minArea: number;
}

export function traceTile(map: ProbabilityMap, options: TraceOptions): GlomerulusPolygon[] {
  return traceKept(keptProbabilities(map, options), options);
}

/** The kept centre of a tile's map: all a later re-cut at another threshold needs. */
export function keptProbabilities(map: ProbabilityMap, options: TraceOptions): ProbabilityMap {
  return cropProbability(map, options.keepX, options.keepY, options.keepWidth, options.keepHeight);
}

/** Polygons of an already kept centre (keepX/keepY are ignored): a tile cut again at another threshold. */
export function traceKept(kept: ProbabilityMap, options: Omit<TraceOptions, 'keepX' | 'keepY' | 'keepWidth' | 'keepHeight'>): GlomerulusPolygon[] {
  return maskToPolygons(kept, options.threshold, options.transform, { minArea: options.minArea });
}
