/**
 * Pixel-edge outlines of a labelled mask for mask-to-polygons.ts: every ring traced along pixel sides (vertices on
 * integer pixel corners), and their simplification with the vertices on the map's boundary pinned, so that pieces
 * cut by a tile border keep the exact border coordinates they share.
 */
import simplify from 'simplify-js';
import type { Ring } from './geometry.js';

// Outline directions, clockwise on screen: right, down, left, up.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Traces every pixel-edge outline of the mask. Each foreground pixel contributes its sides that face background,
 * directed clockwise around the pixel (foreground on the right when walking on screen). At a saddle vertex (two
 * diagonal foreground pixels) the walk turns right, wrapping around the same pixel: that keeps 4-connected
 * components apart. Exterior rings come out with positive signed area, holes with negative.
 */
export function* traceOutlines(
  mask: Uint8Array,
  labels: Int32Array,
  width: number,
  height: number,
): Generator<{ ring: Ring; label: number }> {
  const vw = width + 1;
  // Outgoing edge bits per vertex (bit d = direction d); `remaining` tracks edges not yet traced.
  const outgoing = new Uint8Array(vw * (height + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = y * width + x;
      if (!mask[k]) continue;
      if (y === 0 || !mask[k - width]) outgoing[y * vw + x] |= 1; // top side, going right
      if (x === width - 1 || !mask[k + 1]) outgoing[y * vw + x + 1] |= 2; // right side, going down
      if (y === height - 1 || !mask[k + width]) outgoing[(y + 1) * vw + x + 1] |= 4; // bottom side, going left
      if (x === 0 || !mask[k - 1]) outgoing[(y + 1) * vw + x] |= 8; // left side, going up
    }
  }
  const remaining = outgoing.slice();
  for (let v = 0; v < remaining.length; v++) {
    while (remaining[v]) {
      const startDir = 31 - Math.clz32(remaining[v] & -remaining[v]); // lowest set bit
      const sx = v % vw;
      const sy = (v - sx) / vw;
      const [px, py] = pixelOfEdge(sx, sy, startDir);
      const label = labels[py * width + px];
      const ring: Ring = [];
      let x = sx;
      let y = sy;
      let dir = startDir;
      for (;;) {
        remaining[y * vw + x] &= ~(1 << dir);
        x += DX[dir];
        y += DY[dir];
        const bits = outgoing[y * vw + x];
        // A saddle has two outgoing edges, perpendicular to the incoming one: take the right turn.
        const nextDir = bits & (1 << dir) ? dir : bits & (1 << ((dir + 1) & 3)) ? (dir + 1) & 3 : (dir + 3) & 3;
        if (nextDir !== dir) ring.push([x, y]);
        if (x === sx && y === sy && nextDir === startDir) break;
        dir = nextDir;
      }
      yield { ring, label };
    }
  }
}

/** The foreground pixel whose side is the edge leaving vertex (x, y) in direction `dir`. */
function pixelOfEdge(x: number, y: number, dir: number): [number, number] {
  switch (dir) {
    case 0:
      return [x, y];
    case 1:
      return [x - 1, y];
    case 2:
      return [x - 1, y - 1];
    default:
      return [x, y - 1];
  }
}

/**
 * Douglas-Peucker simplification that pins vertices on the map boundary: the ring is cut into chains between
 * pinned vertices and each chain is simplified with its ends fixed. A ring with no pinned vertex is anchored at
 * its first vertex and the vertex farthest from it.
 */
export function simplifyRing(ring: Ring, tolerance: number, width: number, height: number): Ring {
  if (tolerance <= 0 || ring.length <= 4) return ring;
  const n = ring.length;
  const pinned: number[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = ring[i];
    if (x === 0 || y === 0 || x === width || y === height) pinned.push(i);
  }
  if (pinned.length === 0) {
    let far = 0;
    let best = -1;
    for (let i = 1; i < n; i++) {
      const d = (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2;
      if (d > best) {
        best = d;
        far = i;
      }
    }
    pinned.push(0, far);
  }
  const out: Ring = [];
  for (let p = 0; p < pinned.length; p++) {
    const from = pinned[p];
    const to = pinned[(p + 1) % pinned.length];
    const chain: Array<{ x: number; y: number }> = [];
    for (let i = from; ; i = (i + 1) % n) {
      chain.push({ x: ring[i][0], y: ring[i][1] });
      if (i === to && chain.length > 1) break;
    }
    const simplified = chain.length > 2 ? simplify(chain, tolerance, true) : chain;
    for (let i = 0; i < simplified.length - 1; i++) out.push([simplified[i].x, simplified[i].y]);
  }
  return out.length >= 3 ? out : ring;
}
