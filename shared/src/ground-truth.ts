/**
 * Ground truth as scoring takes it, decided before any inference: the shapes of the classes asked for (by default
 * the glomerulus names), those wholly off the slide left out (none on it at all is refused), outlines that cross
 * themselves repaired. Whatever was left out or changed is said in plain-words warnings that reach the user.
 */
import { parseAnnotationShapes, type AnnotationShape, type ParseAnnotationsOptions } from './annotations.js';
import { assertAnnotationBudget, polygonVertices, type AnnotationBudget } from './annotation-budget.js';
import { GlomsegError } from './errors.js';
import type { Polygon } from './geometry.js';
import { polygonBBox } from './rasterize.js';
import { crossesItself, repairPolygon } from './polygon-repair.js';
import { plural } from './plural.js';

/**
 * The classes counted as glomeruli when none are named. Compared without case or surrounding space; a derived
 * class ("Glomerulus: Sclerotic") matches by its first part. HuBMAP's files say "glomerulus" and "Glomeruli".
 */
export const GLOMERULUS_CLASSES: readonly string[] = ['Glomerulus', 'Glomeruli', 'Glom'];
/** As a truth class: every shape counts, whatever its class. */
export const ANY_CLASS = '*';

export interface GroundTruthOptions extends ParseAnnotationsOptions {
  /**
   * Classes to count as glomeruli; unset or empty: GLOMERULUS_CLASSES. A file that classifies none of its shapes
   * (plain GeoJSON, an RLE mask) has all of them counted.
   */
  classes?: readonly string[];
  /**
   * The slide's size in level-0 pixels. Unknown (a viewer that reads annotations before the slide's size arrives):
   * no shape is left out for lying off the slide.
   */
  width?: number;
  height?: number;
  /** Cost bounds, checked on every parsed shape before any other work. */
  budget?: AnnotationBudget;
}

export interface GroundTruth {
  polygons: Polygon[];
  vertices: number;
  /** What was left out or repaired, in words for the user. */
  warnings: string[];
}

const LISTED = 5;

/** "feature 1, feature 4 and 3 more". */
function listed(items: readonly string[]): string {
  if (items.length <= LISTED) return items.join(', ');
  return `${items.slice(0, LISTED).join(', ')} and ${items.length - LISTED} more`;
}

function normalise(name: string): string {
  return name.trim().toLowerCase();
}

function classMatches(label: string, wanted: ReadonlySet<string>): boolean {
  const name = normalise(label);
  return wanted.has(name) || wanted.has(name.split(':')[0].trim());
}

/** Keeps the shapes of the wanted classes; says which were left out. */
function chooseClasses(
  shapes: AnnotationShape[],
  classes: readonly string[] | undefined,
  warnings: string[],
): AnnotationShape[] {
  const named = (classes ?? []).map((c) => c.trim()).filter((c) => c !== '');
  if (named.includes(ANY_CLASS)) return shapes;
  if (!shapes.some((shape) => shape.label !== undefined)) {
    if (named.length > 0 && shapes.length > 0) {
      warnings.push(
        `the annotations classify none of their shapes, so all ${shapes.length} count as glomeruli; the truth classes asked for (${named.join(', ')}) were not applied`,
      );
    }
    return shapes;
  }
  const wanted = named.length > 0 ? named : GLOMERULUS_CLASSES;
  const wantedSet = new Set(wanted.map(normalise));
  const kept: AnnotationShape[] = [];
  const leftOut = new Map<string, number>();
  for (const shape of shapes) {
    if (shape.label !== undefined && classMatches(shape.label, wantedSet)) kept.push(shape);
    else {
      const name = shape.label === undefined ? 'unclassified' : `"${shape.label}"`;
      leftOut.set(name, (leftOut.get(name) ?? 0) + 1);
    }
  }
  if (leftOut.size > 0) {
    const counts = [...leftOut].sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} ${count}`);
    const classesSaid =
      named.length > 0 ? `of class ${named.join(', ')}` : `of the glomerulus classes (${wanted.join(', ')})`;
    const head =
      kept.length === 0
        ? `no annotation is ${classesSaid}, so nothing counts as ground truth`
        : `ground truth is the ${plural(kept.length, 'shape')} ${classesSaid}`;
    warnings.push(
      `${head}; left out ${plural(shapes.length - kept.length, 'shape')} of other classes (${counts.join(', ')}): name the classes to count as truth classes (glomseg score --truth-class)`,
    );
  }
  return kept;
}

/** Leaves out shapes wholly off the slide, and refuses a truth with none on it (another slide's, or another scale). */
function keepOnSlide(shapes: AnnotationShape[], width: number, height: number, warnings: string[]): AnnotationShape[] {
  const onSlide: AnnotationShape[] = [];
  const off: string[] = [];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const shape of shapes) {
    const box = polygonBBox(shape.polygon);
    minX = Math.min(minX, box.x);
    minY = Math.min(minY, box.y);
    maxX = Math.max(maxX, box.x + box.width);
    maxY = Math.max(maxY, box.y + box.height);
    // A pixel counts when its centre is inside: a box that only touches the slide's edge covers none of it.
    if (box.x < width && box.x + box.width > 0 && box.y < height && box.y + box.height > 0) onSlide.push(shape);
    else off.push(shape.where);
  }
  if (shapes.length > 0 && onSlide.length === 0) {
    throw new GlomsegError(
      'INVALID_ARGUMENT',
      `none of the ${plural(shapes.length, 'ground-truth shape')} lies on the ${width} x ${height} slide: they span x ${minX}..${maxX}, y ${minY}..${maxY} ` +
        '(level-0 pixels). Are they the annotations of another slide, or at another scale?',
    );
  }
  if (off.length > 0) {
    const verb = off.length === 1 ? 'lies wholly outside the slide and is' : 'lie wholly outside the slide and are';
    warnings.push(
      `${off.length} of ${plural(shapes.length, 'ground-truth shape')} ${verb} left out (the slide is ${width} x ${height} pixels): ${listed(off)}`,
    );
  }
  return onSlide;
}

/** Repairs outlines that cross or touch themselves into the simple polygons they enclose; says which. */
function repairOutlines(shapes: AnnotationShape[], warnings: string[]): Polygon[] {
  const polygons: Polygon[] = [];
  const repaired: string[] = [];
  const empty: string[] = [];
  for (const { polygon, where } of shapes) {
    if (!crossesItself(polygon)) {
      polygons.push(polygon);
      continue;
    }
    let pieces: Polygon[];
    try {
      pieces = repairPolygon(polygon);
    } catch {
      throw new GlomsegError(
        'INVALID_ARGUMENT',
        `${where} crosses its own outline in a way that cannot be repaired; redraw it in the annotation tool`,
      );
    }
    if (pieces.length === 0) empty.push(where);
    else repaired.push(`${where} (${plural(pieces.length, 'piece')})`);
    polygons.push(...pieces);
  }
  if (repaired.length > 0) {
    warnings.push(
      `${plural(repaired.length, 'ground-truth shape')} crossed or touched ${repaired.length === 1 ? 'its' : 'their'} own outline and ${repaired.length === 1 ? 'was' : 'were'} ` +
        `repaired into the simple polygons enclosed, each piece counted and rasterised as one glomerulus: ${listed(repaired)}`,
    );
  }
  if (empty.length > 0) {
    warnings.push(
      `${plural(empty.length, 'ground-truth shape')} ${empty.length === 1 ? 'encloses' : 'enclose'} no area and ${empty.length === 1 ? 'is' : 'are'} left out: ${listed(empty)}`,
    );
  }
  return polygons;
}

/** Parses, bounds, filters, checks and repairs ground truth; throws a coded error for what cannot be scored. */
export function readGroundTruth(content: string, options: GroundTruthOptions): GroundTruth {
  const shapes = parseAnnotationShapes(content, options);
  if (options.budget)
    assertAnnotationBudget(
      shapes.map((shape) => shape.polygon),
      options.budget,
    );
  const warnings: string[] = [];
  const chosen = chooseClasses(shapes, options.classes, warnings);
  const { width, height } = options;
  const onSlide = width !== undefined && height !== undefined ? keepOnSlide(chosen, width, height, warnings) : chosen;
  const polygons = repairOutlines(onSlide, warnings);
  return { polygons, vertices: polygons.reduce((total, polygon) => total + polygonVertices(polygon), 0), warnings };
}
