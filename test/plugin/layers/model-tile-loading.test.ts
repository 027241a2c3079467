/**
 * The prediction layer's OpenLayers loading: a real ol VectorSource asked to load view extents, as its layer renderer
 * does each frame, with the model grid as its tile strategy and a scripted server stream (a fake port) behind it.
 */
import { describe, expect, it } from 'vitest';
import Projection from 'ol/proj/Projection.js';
import { tileKey, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { ModelTileLoading, ModelTileSource } from '../../../plugin/src/layers/model-tile-loading.js';
import { SlideFrame } from '../../../plugin/src/slide-frame.js';
import type { ReceivedTile, ViewMotion } from '../../../plugin/src/tile-stream.js';

// 1000 x 700 level-0 pixels in model tiles of 256 x 256 model pixels at scale 2 (512 level-0 pixels): 2 x 2 tiles,
// the last column and row clipped by the slide.
const grid = {
  slideId: 's',
  modelId: 'm',
  scale: 2,
  level: 1,
  levelDownsample: 2,
  tileSize: 256,
  tileSizeLevel0: 512,
  margin: 16,
  sizeMultiple: 32,
  cols: 2,
  rows: 2,
  slideWidth: 1000,
  slideHeight: 700,
  mppAssumed: 0.5,
  mppSource: 'file',
} as TileGrid;
const projection = new Projection({ code: 'slide-pixels', units: 'pixels' });

/** A server that answers every tile at once and records each stream's tiles. */
function answeringServer() {
  const asked: string[][] = [];
  const source = async function* (tiles: TileAddress[]): AsyncIterable<ReceivedTile> {
    asked.push(tiles.map(tileKey));
    for (const tile of tiles)
      yield {
        tile,
        bounds: { x: tile.col * 512, y: tile.row * 512, width: 512, height: 512 },
        polygons: [],
        cached: false,
      };
  };
  return { asked, source };
}

function setUp(origin: 'top-left' | 'bottom-left', maxTiles = 400) {
  const server = answeringServer();
  const frame = new SlideFrame(grid.slideWidth, grid.slideHeight, origin);
  const arrived: string[] = [];
  let motion: ViewMotion = 'still';
  let loading = new ModelTileLoading(grid, frame, maxTiles, {
    grid,
    source: server.source,
    onTile: (t) => arrived.push(tileKey(t.tile)),
    onState: () => {},
    onError: () => {},
  });
  const source = new ModelTileSource(
    () => loading,
    () => motion,
  );
  const ends: number[] = [];
  source.on('featuresloadend', () => ends.push(1));
  return {
    server,
    frame,
    arrived,
    source,
    ends,
    get loading() {
      return loading;
    },
    setMotion: (m: ViewMotion) => (motion = m),
    /** A frame of the view showing this level-0 rectangle. */
    frameOf: (x: number, y: number, width: number, height: number) =>
      source.loadFeatures(frame.mapExtentOf({ x, y, width, height }), 1, projection),
    newCut: () => {
      loading.dispose(source);
      loading = new ModelTileLoading(grid, frame, maxTiles, {
        grid,
        source: server.source,
        onTile: (t) => arrived.push(tileKey(t.tile)),
        onState: () => {},
        onError: () => {},
      });
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ModelTileLoading', () => {
  it.each(['top-left', 'bottom-left'] as const)(
    'loads the model tiles a view meets on the slide, centre first, each once (%s origin)',
    async (origin) => {
      const s = setUp(origin);
      // A view over the lower right part of the slide and past its edges.
      s.frameOf(300, 300, 2000, 2000);
      await settle();
      // Clipped to the slide the view is x 300..1000, y 300..700, centred on (650, 500).
      expect(s.server.asked).toEqual([['1,0', '1,1', '0,0', '0,1']]);
      expect(s.arrived.sort()).toEqual(['0,0', '0,1', '1,0', '1,1']);
      expect(s.ends).toHaveLength(4);
      // The same view again: OpenLayers has them loaded, nothing is asked for.
      s.frameOf(300, 300, 2000, 2000);
      await settle();
      expect(s.server.asked).toHaveLength(1);
    },
  );

  it('asks for the centre tiles only when the view shows more than maxTiles', async () => {
    const s = setUp('top-left', 1);
    s.frameOf(0, 0, 1000, 700);
    await settle();
    expect(s.server.asked).toEqual([['0,0']]);
    expect(s.loading.view.limited).toBe(true);
  });

  it('asks for nothing while the user drags, and for the view once it is at rest', async () => {
    const s = setUp('top-left');
    s.setMotion('dragged');
    s.frameOf(0, 0, 400, 400);
    await settle();
    expect(s.server.asked).toEqual([]);
    s.setMotion('still');
    s.loading.followView('still'); // moveend
    await settle();
    expect(s.server.asked).toEqual([['0,0']]);
  });

  it("a new cut loads every tile again: the old cut's extents are marked not loaded", async () => {
    const s = setUp('top-left');
    s.frameOf(0, 0, 1000, 700);
    await settle();
    s.newCut();
    s.frameOf(0, 0, 1000, 700);
    await settle();
    expect(s.server.asked).toHaveLength(2);
    expect([...s.server.asked[1]].sort()).toEqual(['0,0', '0,1', '1,0', '1,1']);
  });

  it('loads nothing for a view off the slide', async () => {
    const s = setUp('top-left');
    s.frameOf(5000, 5000, 300, 300);
    await settle();
    expect(s.server.asked).toEqual([]);
    expect(s.loading.view.tiles).toEqual([]);
  });
});
