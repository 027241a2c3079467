/**
 * An annotation file as reviewed regions, for `glomseg annotations import`: the file's shapes of a class starting
 * "Region" (QuPath's "Region*", as `annotations export` writes them) are the reviewed regions, each with the
 * glomeruli whose centre lies in it; a file without such shapes is one reviewed region, the whole slide it belongs
 * to (a view annotated in full). Glomeruli are read as `glomseg score` reads ground truth (shared/ground-truth.ts:
 * the glomerulus classes, shapes off the slide left out, crossing outlines repaired), each of source "imported".
 */
import path from 'node:path';
import { parseAnnotationShapes } from '@glomseg/shared/annotations.js';
import { annotationFormatForFileName } from '@glomseg/shared/annotation-formats/index.js';
import { pointInRing, type Polygon, type Ring } from '@glomseg/shared/geometry.js';
import { readGroundTruth } from '@glomseg/shared/ground-truth.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import type { AnnotatedRegion } from '@glomseg/shared/reviewed-annotations.js';

const REGION_LABEL = /^\s*region/i;

function centre(polygon: Polygon): [number, number] {
  const box = polygonBBox(polygon);
  return [box.x + box.width / 2, box.y + box.height / 2];
}

export interface ImportedFile {
  regions: AnnotatedRegion[];
  warnings: string[];
}

/** The reviewed regions of one annotation file of a slide `width` x `height` pixels. */
export function importedRegions(
  content: string,
  fileName: string,
  slide: { width: number; height: number },
  classes?: string[],
): ImportedFile {
  const format = annotationFormatForFileName(fileName);
  const stem = path.parse(fileName).name;
  const truth = readGroundTruth(content, { format, name: fileName, classes, width: slide.width, height: slide.height });
  const glomeruli = truth.polygons.map((polygon) => ({ ...polygon, source: 'imported' as const }));
  const outlines = parseAnnotationShapes(content, { format, name: fileName })
    .filter((shape) => shape.label !== undefined && REGION_LABEL.test(shape.label))
    .map((shape) => shape.polygon.exterior);
  const warnings = [...truth.warnings];
  if (outlines.length === 0) {
    const { width, height } = slide;
    const extent: Ring = [
      [0, 0],
      [width, 0],
      [width, height],
      [0, height],
    ];
    return { regions: [{ id: stem, outline: extent, glomeruli }], warnings };
  }
  const regions: AnnotatedRegion[] = outlines.map((outline, i) => ({
    id: `${stem}/region-${i + 1}`,
    outline,
    glomeruli: [],
  }));
  let outside = 0;
  for (const glomerulus of glomeruli) {
    const [x, y] = centre(glomerulus);
    const region = regions.find((r) => pointInRing(x, y, r.outline));
    if (region) region.glomeruli.push(glomerulus);
    else outside += 1;
  }
  if (outside > 0)
    warnings.push(`${outside} of ${glomeruli.length} glomeruli lie outside every reviewed region and are left out`);
  return { regions, warnings };
}

/** The slide a file belongs to: the one its name is, else the longest whose name it starts with (C001_region1_gt.json). */
export function slideForFile<T extends { name: string }>(fileName: string, slides: readonly T[]): T | undefined {
  const stem = path.parse(fileName).name;
  const exact = slides.find((slide) => slide.name === stem);
  if (exact) return exact;
  const prefixed = slides.filter(
    (slide) => /^[_.-]/.test(stem.slice(slide.name.length)) && stem.startsWith(slide.name),
  );
  return prefixed.sort((a, b) => b.name.length - a.name.length)[0];
}

/** The latest version's regions with the imported ones in: a region of the same id replaced (a re-import). */
export function mergeRegions(existing: readonly AnnotatedRegion[], imported: readonly AnnotatedRegion[]) {
  const ids = new Set(imported.map((region) => region.id));
  return [...existing.filter((region) => !ids.has(region.id)), ...imported];
}
