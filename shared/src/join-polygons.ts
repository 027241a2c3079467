/**
 * Joins the pieces of one glomerulus that tile borders cut apart. Only pieces that touch a tile edge take part;
 * they are grouped by touching or overlapping bounding boxes and each group is unioned (polygon-clipping).
 * Work is proportional to the edge pieces, so the plugin can re-run it over all raw pieces whenever a tile arrives.
 * Pass the raw per-tile pieces each time: joined polygons come out with `touches: []` and would not join again.
 */
import polygonClipping from 'polygon-clipping';
import { ringsOf, type GlomerulusPolygon, type Polygon, type Rect, type Ring } from './geometry.js';
import { polygonArea, polygonBBox, rectsTouch } from './rasterize.js';

export const JOIN_TOLERANCE = 1e-6;

export interface JoinOptions {
  /**
   * Holes a union leaves that are smaller than this (level-0 square pixels) are filled: where two pieces meet along
   * a tile border, a sliver between them is a pinhole, not tissue. Use the slide's minimum glomerulus area.
   */
  minHoleArea?: number;
}

export function joinAcrossTiles(pieces: readonly GlomerulusPolygon[], options: JoinOptions = {}): GlomerulusPolygon[] {
  const result: GlomerulusPolygon[] = [];
  const edgePieces: GlomerulusPolygon[] = [];
  for (const piece of pieces) (piece.touches.length > 0 ? edgePieces : result).push(piece);
  if (edgePieces.length === 0) return result;

  const boxes = edgePieces.map(polygonBBox);
  for (const group of groupTouchingBoxes(boxes)) {
    if (group.length === 1) {
      result.push(edgePieces[group[0]]);
      continue;
    }
    result.push(
      ...unionGroup(
        group.map((i) => edgePieces[i]),
        group.map((i) => boxes[i]),
        options.minHoleArea ?? 0,
      ),
    );
  }
  return result;
}

/** Connected groups of boxes that touch or overlap, found with a sweep along x and union-find. */
function groupTouchingBoxes(boxes: Rect[]): number[][] {
  const parent = boxes.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const order = boxes.map((_, i) => i).sort((a, b) => boxes[a].x - boxes[b].x);
  for (let a = 0; a < order.length; a++) {
    const boxA = boxes[order[a]];
    for (let b = a + 1; b < order.length; b++) {
      const boxB = boxes[order[b]];
      if (boxB.x > boxA.x + boxA.width + JOIN_TOLERANCE) break;
      if (rectsTouch(boxA, boxB, JOIN_TOLERANCE)) parent[find(order[a])] = find(order[b]);
    }
  }
  const groups = new Map<number, number[]>();
  boxes.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

function toClipping(polygon: Polygon): polygonClipping.Polygon {
  return ringsOf(polygon);
}

/** Drops the closing point polygon-clipping repeats at the end of each ring. */
function openRing(ring: polygonClipping.Ring): Ring {
  const n = ring.length;
  const closed = n > 1 && ring[0][0] === ring[n - 1][0] && ring[0][1] === ring[n - 1][1];
  return (closed ? ring.slice(0, n - 1) : ring.slice()) as Ring;
}

function unionGroup(members: GlomerulusPolygon[], boxes: Rect[], minHoleArea: number): GlomerulusPolygon[] {
  const clipped = members.map(toClipping);
  let merged: polygonClipping.MultiPolygon;
  try {
    merged = polygonClipping.union(clipped[0], ...clipped.slice(1));
  } catch {
    // polygon-clipping gives up on some degenerate rings; unjoined pieces beat losing the tile.
    return members;
  }
  const outputs: Polygon[] = merged.map((rings) => ({
    exterior: openRing(rings[0]),
    holes: rings
      .slice(1)
      .map(openRing)
      .filter((hole) => polygonArea({ exterior: hole, holes: [] }) >= minHoleArea),
  }));
  const outputBoxes = outputs.map(polygonBBox);
  // Each member is connected, so it lies inside exactly one output polygon: find it by box containment, and
  // when boxes nest, by which candidate it overlaps with positive area.
  const owners: GlomerulusPolygon[][] = outputs.map(() => []);
  members.forEach((member, i) => {
    let candidates = outputs.map((_, o) => o).filter((o) => containsRect(outputBoxes[o], boxes[i]));
    if (candidates.length > 1) {
      candidates = candidates.filter(
        (o) => polygonClipping.intersection(clipped[i], toClipping(outputs[o])).length > 0,
      );
    }
    if (candidates.length > 0) owners[candidates[0]].push(member);
  });
  return outputs.map((polygon, o) => {
    const inside = owners[o];
    if (inside.length === 1) return inside[0]; // nothing was joined to it
    let weight = 0;
    let sum = 0;
    for (const member of inside) {
      weight += member.area;
      sum += member.area * member.meanProbability;
    }
    return { ...polygon, area: polygonArea(polygon), meanProbability: weight > 0 ? sum / weight : 0, touches: [] };
  });
}

function containsRect(outer: Rect, inner: Rect): boolean {
  const t = JOIN_TOLERANCE;
  return (
    inner.x >= outer.x - t &&
    inner.y >= outer.y - t &&
    inner.x + inner.width <= outer.x + outer.width + t &&
    inner.y + inner.height <= outer.y + outer.height + t
  );
}
