/**
 * The bench's setups: each model (an id, or a folder holding a card) in each precision and ScoreSlide tile size
 * gets a model folder of its own whose card makes the server, and the raw phase, load exactly that.
 */
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchSetups } from '../../../server/src/bench/bench-setups.js';
import { MODELS } from '../../helpers/paths.js';

const folders: string[] = [];
// Only folders this file made under the temporary folder are removed.
afterAll(() =>
  Promise.all(
    folders
      .filter((f) => /^glomseg-(bench-models|other-model)-/.test(path.relative(os.tmpdir(), f)))
      .map((f) => rm(f, { recursive: true, force: true })),
  ),
);

describe('bench setups', () => {
  it('makes fp32 on the small grid, fp32 and int8 on the card scoreTileSize from the shipped card', async () => {
    const { setups, skipped } = await benchSetups({ models: MODELS });
    expect(skipped).toEqual([]);
    const card = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8'));
    expect(setups.map((s) => [s.name, s.scoreTileSize])).toEqual([
      ['glomseg-unet fp32@small', card.tileSize],
      ['glomseg-unet fp32@score', card.scoreTileSize],
      ['glomseg-unet int8@score', card.scoreTileSize],
    ]);
    const [small, fp32, int8] = setups;
    // The file each setup's CPU session loads: the int8 variant only where the setup says int8.
    expect(small.model.variantPaths.cpu).toBeUndefined();
    expect(fp32.model.variantPaths.cpu).toBeUndefined();
    expect(path.basename(int8.model.variantPaths.cpu)).toBe(card.variants.cpu);
    expect(int8.model.variantPaths.webgpu).toBeDefined();
    for (const setup of setups) {
      const written = JSON.parse(await readFile(setup.model.cardPath, 'utf8'));
      expect(written.scoreTileSize).toBe(setup.scoreTileSize);
      expect(written.id).toBe(card.id);
    }
    folders.push(path.dirname(small.folder));
  });

  it('takes a folder holding a card as a second model, and skips int8 where its card names no variants.cpu', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'glomseg-other-model-'));
    folders.push(other);
    const card = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8'));
    const shippedScoreTileSize = card.scoreTileSize;
    delete card.variants;
    delete card.scoreTileSize;
    await writeFile(path.join(other, 'glomseg-unet.json'), JSON.stringify(card));
    await symlink(path.join(MODELS, card.file), path.join(other, card.file));
    const { setups, skipped } = await benchSetups({
      models: MODELS,
      model: ['glomseg-unet', other],
      setups: ['int8@score', 'fp32@1024'],
    });
    folders.push(path.dirname(setups[0].folder));
    const name = `${path.basename(other)}/glomseg-unet`;
    expect(setups.map((s) => [s.name, s.modelIndex, s.scoreTileSize])).toEqual([
      ['glomseg-unet int8@score', 0, shippedScoreTileSize], // the card's own windows
      ['glomseg-unet fp32@1024', 0, 1024],
      [`${name} fp32@1024`, 1, 1024],
    ]);
    expect(skipped).toEqual([
      `${name} int8@score: the card names no variants.cpu (bash training/int8_variant.sh makes one)`,
    ]);
    await expect(benchSetups({ models: MODELS, setups: ['int4@score'] })).rejects.toThrow(/must be fp32\|int8/);
  });
});
