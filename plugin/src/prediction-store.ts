/**
 * Predicted glomeruli as they arrive tile by tile. Pieces that touch no tile edge are final at once. Pieces on tile
 * edges are kept in clusters of pieces whose boxes touch; a new tile's edge pieces can only touch pieces of the
 * tiles around it, so only the clusters there are joined again (shared joinAcrossTiles). Work per tile is the size
 * of its neighbourhood, not of everything received, and only the re-joined clusters' polygons change on the map.
 */
import type { GlomerulusPolygon, Rect } from '@glomseg/shared/geometry.js';
import { JOIN_TOLERANCE, joinAcrossTiles } from '@glomseg/shared/join-polygons.js';
import { polygonBBox, rectsTouch } from '@glomseg/shared/rasterize.js';
import { tileKey, type TileAddress } from '@glomseg/shared/tile-grid.js';
import type { ReceivedTile } from './tile-stream.js';

export interface PredictedGlomerulus {
  /** Stable for interior pieces; a cluster's joined polygons get new ids whenever the cluster is re-joined. */
  id: string;
  polygon: GlomerulusPolygon;
}

export interface PredictionChange {
  added: PredictedGlomerulus[];
  /** Drawn before, taken away now (their cluster was joined again). */
  removed: PredictedGlomerulus[];
}

interface Cluster {
  id: number;
  pieces: GlomerulusPolygon[];
  boxes: Rect[];
  tiles: Set<string>;
  joined: PredictedGlomerulus[];
}

export class PredictionStore {
  private readonly interior = new Map<string, PredictedGlomerulus>();
  private readonly clusters = new Map<number, Cluster>();
  /** Clusters with pieces from each tile. */
  private readonly clustersOfTile = new Map<string, Set<number>>();
  private nextCluster = 0;
  private joinGeneration = 0;
  private joinedCount = 0;
  /** Edge pieces the last tile made the store join again (its neighbourhood's, not all received). */
  lastJoinPieces = 0;

  /**
   * `minArea`: the slide's smallest glomerulus. Tiles keep small pieces at their edges; joined, what is still smaller
   * is not drawn (as ScoreSlide leaves it out), and holes smaller are filled (see joinAcrossTiles). A cluster a later
   * tile makes larger is drawn then. `idPrefix` keeps ids apart from another store's (another threshold's cut).
   */
  constructor(
    private readonly minArea = 0,
    private readonly idPrefix = '',
  ) {}

  /** Adds one tile's raw pieces; returns what to draw and what to take away. */
  addTile(result: ReceivedTile): PredictionChange {
    const key = tileKey(result.tile);
    const added: PredictedGlomerulus[] = [];
    const edgePieces: GlomerulusPolygon[] = [];
    result.polygons.forEach((polygon, i) => {
      if (polygon.touches.length > 0) {
        edgePieces.push(polygon);
      } else {
        const entry = { id: `${this.idPrefix}p${key}#${i}`, polygon };
        this.interior.set(entry.id, entry);
        added.push(entry);
      }
    });
    if (edgePieces.length === 0) return { added, removed: [] };

    // Each new piece, with the clusters around this tile it touches (and the new pieces it touches), makes one
    // cluster, joined again; clusters it does not touch stay as they are.
    const boxes = edgePieces.map(polygonBBox);
    const around = [...this.clustersAround(result.tile)].map((id) => this.clusters.get(id)!);
    const parent = edgePieces.map((_, i) => i);
    const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
    const ownerOf = new Map<Cluster, number>();
    for (let i = 0; i < edgePieces.length; i++) {
      for (let j = 0; j < i; j++) if (rectsTouch(boxes[i], boxes[j], JOIN_TOLERANCE)) parent[find(i)] = find(j);
      for (const cluster of around) {
        if (!cluster.boxes.some((box) => rectsTouch(box, boxes[i], JOIN_TOLERANCE))) continue;
        const owner = ownerOf.get(cluster);
        if (owner === undefined) ownerOf.set(cluster, i);
        else parent[find(i)] = find(owner);
      }
    }
    const groups = new Map<number, Cluster>();
    const groupOf = (root: number) => {
      let group = groups.get(root);
      if (!group)
        groups.set(
          root,
          (group = { id: this.nextCluster++, pieces: [], boxes: [], tiles: new Set([key]), joined: [] }),
        );
      return group;
    };
    edgePieces.forEach((piece, i) => {
      const group = groupOf(find(i));
      group.pieces.push(piece);
      group.boxes.push(boxes[i]);
    });
    const removed: PredictedGlomerulus[] = [];
    for (const [cluster, owner] of ownerOf) {
      const group = groupOf(find(owner));
      group.pieces.push(...cluster.pieces);
      group.boxes.push(...cluster.boxes);
      for (const tile of cluster.tiles) group.tiles.add(tile);
      removed.push(...cluster.joined);
      this.removeCluster(cluster);
    }
    this.lastJoinPieces = 0;
    for (const group of groups.values()) {
      this.lastJoinPieces += group.pieces.length;
      const generation = ++this.joinGeneration;
      group.joined = joinAcrossTiles(group.pieces, { minHoleArea: this.minArea })
        .filter((polygon) => polygon.area >= this.minArea)
        .map((polygon, i) => ({ id: `${this.idPrefix}j${generation}#${i}`, polygon }));
      this.addCluster(group);
      added.push(...group.joined);
    }
    return { added, removed };
  }

  /** Every glomerulus drawn now: interior pieces plus joined edge clusters. */
  all(): PredictedGlomerulus[] {
    const out = [...this.interior.values()];
    for (const cluster of this.clusters.values()) out.push(...cluster.joined);
    return out;
  }

  polygons(): GlomerulusPolygon[] {
    return this.all().map((entry) => entry.polygon);
  }

  get size(): number {
    return this.interior.size + this.joinedCount;
  }

  clear(): void {
    this.interior.clear();
    this.clusters.clear();
    this.clustersOfTile.clear();
    this.joinedCount = 0;
  }

  private clustersAround(tile: TileAddress): Set<number> {
    const ids = new Set<number>();
    for (let row = tile.row - 1; row <= tile.row + 1; row++) {
      for (let col = tile.col - 1; col <= tile.col + 1; col++) {
        for (const id of this.clustersOfTile.get(tileKey({ col, row })) ?? []) ids.add(id);
      }
    }
    return ids;
  }

  private addCluster(cluster: Cluster): void {
    this.clusters.set(cluster.id, cluster);
    this.joinedCount += cluster.joined.length;
    for (const tile of cluster.tiles) {
      let set = this.clustersOfTile.get(tile);
      if (!set) this.clustersOfTile.set(tile, (set = new Set()));
      set.add(cluster.id);
    }
  }

  private removeCluster(cluster: Cluster): void {
    this.clusters.delete(cluster.id);
    this.joinedCount -= cluster.joined.length;
    for (const tile of cluster.tiles) this.clustersOfTile.get(tile)?.delete(cluster.id);
  }
}
