/**
 * training/dataset.py's instance_gaps (the pixels train.py --gap-weight weighs more) on real train tiles, checked
 * against a brute-force reading of its definition: background pixels within `reach` px (a square window) of two or
 * more glomeruli, each glomerulus rasterised alone.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DATA, REPO_ROOT } from '../helpers/paths.js';

const SCRIPT = `
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from PIL import Image, ImageDraw
from dataset import downsample_image, instance_gaps, polygons, read_splits
data, factor, reach = sys.argv[2], 4, 4
train = [r['tile_id'] for r in read_splits(data) if r['split'] == 'train']
single = next(t for t in train if len(polygons(data, t)[0]) == 1)
out = {'single': single}
for tile in ('33', single):
    polys, (w, h) = polygons(data, tile)
    gap = instance_gaps(data, [tile], factor, reach)[0]
    fractions = []
    for p in polys:
        m = Image.new('L', (w, h), 0)
        ImageDraw.Draw(m).polygon(p, fill=255, outline=255)
        fractions.append(np.asarray(downsample_image(m, factor), dtype=np.float32) / 255.0)
    inst = [f >= 0.5 for f in fractions]
    background = np.sum(fractions, axis=0) < 0.5
    expected = np.zeros_like(gap, dtype=bool)
    H, W = gap.shape
    for y in range(H):
        for x in range(W):
            if not background[y, x]:
                continue
            near = sum(bool(i[max(0, y - reach):y + reach + 1, max(0, x - reach):x + reach + 1].any()) for i in inst)
            expected[y, x] = near >= 2
    out[tile] = {'gaps': int(gap.sum()), 'expected': int(expected.sum()), 'same': bool(((gap > 0) == expected).all())}
print(json.dumps(out))
`;

describe('training gap map (dataset.instance_gaps)', () => {
  it('marks the background between neighbouring glomeruli, and nothing on a tile with one glomerulus', async () => {
    const { stdout } = await promisify(execFile)(
      '/usr/bin/python3',
      ['-c', SCRIPT, path.join(REPO_ROOT, 'training'), path.join(DATA, 'hubmap-vu')],
      { timeout: 120_000 },
    );
    const result = JSON.parse(stdout);
    expect(result['33'].gaps).toBeGreaterThan(20); // tile 33 has neighbours a few pixels apart
    expect(result['33']).toMatchObject({ same: true, expected: result['33'].gaps });
    expect(result[result.single]).toEqual({ gaps: 0, expected: 0, same: true });
  }, 150_000);
});
