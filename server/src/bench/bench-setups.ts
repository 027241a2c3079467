/**
 * What the bench compares side by side in one run: each model (an id in the model folder, or a folder holding a
 * card) in each setup, a precision and a ScoreSlide tile size. A setup runs from a model folder of its own: the
 * card copied with its CPU variant and scoreTileSize set as the setup says, the model files linked, so the server,
 * the raw phase and the bench all load exactly what a deployment with that card would.
 *   fp32@small  the fp32 file on StreamTiles' tiles (card.tileSize): the pipeline before issue 31
 *   fp32@score  the fp32 file on the card's scoreTileSize
 *   int8@score  the card's variants.cpu (int8) on its scoreTileSize
 *   <p>@<N>     N model pixels
 */
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { scoreTileSizeOf } from '@glomseg/shared/tile-grid.js';
import { ModelRegistry, type RegisteredModel } from '../inference/model-registry.js';

export const DEFAULT_SETUPS = ['fp32@small', 'fp32@score', 'int8@score'];

export interface BenchSetup {
  /** e.g. 'glomseg-unet int8@score', or with the --model folder's name where one was given. */
  name: string;
  /** Which --model it is (two folders' cards may share an id). */
  modelIndex: number;
  precision: 'fp32' | 'int8';
  /** ScoreSlide's tile edge in model pixels. */
  scoreTileSize: number;
  /** The setup's own model folder and its model. */
  folder: string;
  model: RegisteredModel;
}

/** The model a --model value names: a folder holding a card (its default model), else an id in `folder`. */
async function modelOf(value: string | undefined, folder: string): Promise<RegisteredModel> {
  if (value && existsSync(value) && statSync(value).isDirectory()) {
    return (await ModelRegistry.load({ folder: path.resolve(value) })).defaultModel();
  }
  const registry = await ModelRegistry.load({ folder });
  return value ? registry.get(value) : registry.defaultModel();
}

function parseSetup(text: string): { precision: 'fp32' | 'int8'; tile: string } {
  const [precision, tile = 'score'] = text.split('@');
  if ((precision !== 'fp32' && precision !== 'int8') || !/^(small|score|\d+)$/.test(tile)) {
    throw new Error(`setup '${text}' must be fp32|int8@small|score|<model px>, e.g. int8@score`);
  }
  return { precision, tile };
}

/** Every model in every setup, each in a model folder of its own under a temporary folder. */
export async function benchSetups(options: { models: string; model?: string[]; setups?: string[] }): Promise<{
  setups: BenchSetup[];
  skipped: string[];
  /** The temporary folder holding every setup's model folder: the caller removes it. */
  root: string;
}> {
  const texts = options.setups?.length ? options.setups : DEFAULT_SETUPS;
  texts.forEach(parseSetup);
  const root = await mkdtemp(path.join(os.tmpdir(), 'glomseg-bench-models-'));
  const setups: BenchSetup[] = [];
  const skipped: string[] = [];
  const models = options.model?.length ? options.model : [undefined];
  for (const [m, value] of models.entries()) {
    const source = await modelOf(value, options.models);
    const { card } = source;
    for (const text of texts) {
      const { precision, tile } = parseSetup(text);
      const label = value && existsSync(value) ? `${path.basename(path.resolve(value))}/${card.id}` : card.id;
      const name = `${label} ${text}`;
      if (precision === 'int8' && !source.variantPaths.cpu) {
        skipped.push(`${name}: the card names no variants.cpu (bash training/int8_variant.sh makes one)`);
        continue;
      }
      const scoreTileSize = tile === 'small' ? card.tileSize : tile === 'score' ? scoreTileSizeOf(card) : Number(tile);
      const folder = path.join(root, `${m}-${text.replace('@', '-')}`);
      await mkdir(folder);
      const cardFolder = path.dirname(source.cardPath);
      for (const file of await readdir(cardFolder)) {
        if (file.endsWith('.onnx')) await symlink(path.join(cardFolder, file), path.join(folder, file));
      }
      const variants = { ...card.variants };
      if (precision === 'fp32') delete variants.cpu;
      await writeFile(
        path.join(folder, path.basename(source.cardPath)),
        JSON.stringify({ ...card, variants, scoreTileSize }, null, 2),
      );
      const model = (await ModelRegistry.load({ folder })).get(card.id);
      setups.push({ name, modelIndex: m, precision, scoreTileSize, folder, model });
    }
  }
  return { setups, skipped, root };
}
