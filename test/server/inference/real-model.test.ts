/** The trained model from models/ (whatever the registry's default is) on a real kidney tile it was trained on. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Polygon } from '@glomseg/shared/geometry.js';
import { rasterizePolygons } from '@glomseg/shared/rasterize.js';
import { ModelRegistry, OnnxSegmenter } from '../../../server/src/inference/index.js';
import { cropRgb, readTileScaled, repoRoot, tilesFolder } from './tile-image.js';

const modelsFolder = path.join(repoRoot, 'models');
describe('the default model in models/', () => {
  it('finds the glomerulus of train tile 2 in a 320-pixel crop at the model scale', async () => {
    const registry = await ModelRegistry.load({ folder: modelsFolder });
    const model = registry.defaultModel();
    const { card } = model;
    // HuBMAP tiles are 0.5 um/px at full resolution.
    const downsample = card.downsample ?? (card.mpp ? card.mpp / 0.5 : 1);
    const tile = await readTileScaled('2', downsample);

    const labelme = JSON.parse(readFileSync(path.join(tilesFolder, '2.json'), 'utf8')) as {
      shapes: Array<{ label: string; points: number[][] }>;
    };
    const glomeruli: Polygon[] = labelme.shapes
      .filter((s) => s.label === 'Glomeruli')
      .map((s) => ({
        exterior: s.points.map(([x, y]) => [x / downsample, y / downsample] as [number, number]),
        holes: [],
      }));
    expect(glomeruli.length).toBeGreaterThan(0);

    // A window of up to 320 x 320 model pixels around the first glomerulus, inside the tile.
    const width = Math.min(320, tile.width);
    const height = Math.min(320, tile.height);
    const xs = glomeruli[0].exterior.map((p) => p[0]);
    const ys = glomeruli[0].exterior.map((p) => p[1]);
    const centreX = (Math.min(...xs) + Math.max(...xs)) / 2;
    const centreY = (Math.min(...ys) + Math.max(...ys)) / 2;
    const left = Math.round(Math.min(Math.max(centreX - width / 2, 0), tile.width - width));
    const top = Math.round(Math.min(Math.max(centreY - height / 2, 0), tile.height - height));
    const crop = cropRgb(tile, left, top, width, height);

    const segmenter = await OnnxSegmenter.create({ ...model, device: 'cpu' });
    try {
      const map = await segmenter.predict(crop);
      expect([map.width, map.height]).toEqual([width, height]);
      const truth = rasterizePolygons(glomeruli, { x: left, y: top, width, height });
      let inside = 0;
      let insideSum = 0;
      let outsideSum = 0;
      for (let k = 0; k < map.data.length; k++) {
        const p = map.data[k];
        expect(p >= 0 && p <= 1).toBe(true);
        if (truth[k]) {
          inside++;
          insideSum += p;
        } else {
          outsideSum += p;
        }
      }
      expect(inside).toBeGreaterThan(100);
      const insideMean = insideSum / inside;
      const outsideMean = outsideSum / (map.data.length - inside);
      console.log(
        `${card.id} on ${segmenter.device}: ${width}x${height} crop, mean probability inside the glomerulus ${insideMean.toFixed(3)}, outside ${outsideMean.toFixed(3)}`,
      );
      expect(insideMean).toBeGreaterThan(card.threshold);
      expect(insideMean - outsideMean).toBeGreaterThan(0.3);
    } finally {
      await segmenter.dispose();
    }
  });
});
