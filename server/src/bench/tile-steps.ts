/**
 * `npm run bench:tile-steps -- SLIDE`: the CPU each step a model tile goes through in the inference worker costs,
 * besides the model, measured one by one on one thread over the real windows of a slide in grid order (as a worker
 * meets them): the model input made in one pass (stain mapping with a fresh colour map per slide, so that its memo
 * fills as in serving, padding, normalisation and the tissue share), the same without stain mapping, the model
 * output to probabilities (the sigmoid), and tracing with the card's post-processing on the probabilities, on the
 * logits (as a tile that is only cut is traced) and with the threshold alone (no parting, no core rule). The model
 * runs once per tile, untimed, to give these real outputs. Prints one JSON document.
 */
import path from 'node:path';
import { Command } from 'commander';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { sessionOptionsFor } from '../inference/execution-providers.js';
import {
  minAreaOnSlide,
  planTileGrid,
  tileBounds,
  tileReadWindow,
  type TileGrid,
  type TileReadWindow,
} from '@glomseg/shared/tile-grid.js';
import { tileModelInput, toProbabilityMap } from '@glomseg/shared/preprocess.js';
import {
  compileStainMapping,
  resolveStainMethod,
  type ColourMap,
  type StainMapping,
} from '@glomseg/shared/stain-normalization.js';
import { traceTile } from '@glomseg/shared/trace-tile.js';
import type { ProbabilityMap, TraceOptions } from '@glomseg/shared/segmenter.js';
import type { RgbImage, SlideSource } from '@glomseg/shared/slide-source.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { openSlideFile } from '../slides/slide-catalog.js';
import { ModelRegistry } from '../inference/model-registry.js';
import { surveySlide } from '../service/slide-survey.js';
import { resizeRgb } from '../service/resample.js';
import { DEFAULT_MODEL_FOLDER } from '../cli/paths.js';
import { positiveInteger } from '../cli/option-parsers.js';

interface StepFigures {
  /** Mean milliseconds per tile over the passes, and the fastest pass's mean. */
  meanMs: number;
  bestPassMs: number;
}

/** Runs `step` over every tile, `passes` times (`fresh()` before each pass), and times each pass. */
function timeStep<T>(tiles: T[], passes: number, fresh: () => void, step: (tile: T) => void): StepFigures {
  const perPass: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    fresh();
    const started = performance.now();
    for (const tile of tiles) step(tile);
    perPass.push((performance.now() - started) / tiles.length);
  }
  return { meanMs: perPass.reduce((a, b) => a + b, 0) / passes, bestPassMs: Math.min(...perPass) };
}

interface TileWindow {
  window: TileReadWindow;
  image: RgbImage;
  trace: TraceOptions;
}

interface ModelOutput {
  map: ProbabilityMap;
  logits: ProbabilityMap;
  output: { data: Float32Array; dims: readonly number[] };
  trace: TraceOptions;
}

/** The slide's first `maxTiles` windows in grid order, read and resized to the model's input as the service does. */
async function readWindows(
  source: SlideSource,
  grid: TileGrid,
  card: ModelCard,
  maxTiles: number,
): Promise<TileWindow[]> {
  const windows: TileWindow[] = [];
  for (let row = 0; row < grid.rows && windows.length < maxTiles; row++) {
    for (let col = 0; col < grid.cols && windows.length < maxTiles; col++) {
      const window = tileReadWindow(grid, { col, row });
      const bounds = tileBounds(grid, { col, row });
      const region = await source.readRegion({
        level: window.level,
        x: window.x,
        y: window.y,
        width: window.width,
        height: window.height,
      });
      const image = await resizeRgb(region, window.modelWidth, window.modelHeight);
      const trace: TraceOptions = {
        keepX: window.keepX,
        keepY: window.keepY,
        keepWidth: window.keepWidth,
        keepHeight: window.keepHeight,
        threshold: card.threshold,
        seedThreshold: card.seedThreshold,
        requireCore: card.requireCore,
        minArea: minAreaOnSlide(card, grid),
        transform: { originX: bounds.x, originY: bounds.y, scale: grid.scale },
      };
      windows.push({ window, image, trace });
    }
  }
  return windows;
}

/** The model run once per window (untimed): its real outputs, as probabilities and as logits. */
async function runModel(
  modelPath: string,
  card: ModelCard,
  windows: TileWindow[],
  mapper: ColourMap | undefined,
): Promise<ModelOutput[]> {
  const session = await InferenceSession.create(modelPath, sessionOptionsFor('cpu', 2));
  const maps: ModelOutput[] = [];
  for (const { image, trace } of windows) {
    const { values, width, height } = tileModelInput(image, card, mapper);
    if (width !== image.width || height !== image.height) continue; // the map would need cropping first
    const out = (await session.run({ [card.input.name]: new Tensor('float32', values, [1, 3, height, width]) }))[
      card.output.name
    ];
    const output = { data: (out.data as Float32Array).slice(), dims: out.dims };
    maps.push({
      map: toProbabilityMap(output.data, output.dims, card),
      logits: toProbabilityMap(output.data, output.dims, card, { keepLogits: true }),
      output,
      trace,
    });
  }
  await session.release();
  return maps;
}

async function main(slidePath: string, options: { models: string; tiles: number; passes: number }): Promise<void> {
  const registry = await ModelRegistry.load({ folder: options.models });
  const { card, modelPath } = registry.defaultModel();
  const source = await openSlideFile(slidePath, path.basename(slidePath));
  const grid = planTileGrid(source.metadata, card);
  const survey = await surveySlide(source);
  // As the service reads a slide with 'auto': the card's method, when the slide's stain could be measured.
  const method = resolveStainMethod('auto', card);
  const stain: StainMapping | undefined =
    method && survey.stain ? { method, from: survey.stain, to: card.stain!.reference! } : undefined;
  const windows = await readWindows(source, grid, card, options.tiles);
  await source.close();
  let mapper = stain ? compileStainMapping(stain) : undefined;
  const maps = await runModel(modelPath, card, windows, mapper);

  const images = windows.map((w) => w.image);
  const result = {
    slide: slidePath,
    model: card.id,
    tiles: windows.length,
    windowPixels: images[0] ? images[0].width * images[0].height : 0,
    passes: options.passes,
    stain: stain ? { method: stain.method, from: stain.from } : undefined,
    steps: {
      // What the worker does before the model: stain mapping, padding, normalisation, tissue share in one pass.
      modelInputMapped: stain
        ? timeStep(
            images,
            options.passes,
            () => (mapper = compileStainMapping(stain)),
            (image) => tileModelInput(image, card, mapper),
          )
        : undefined,
      modelInputUnmapped: timeStep(
        images,
        options.passes,
        () => undefined,
        (image) => tileModelInput(image, card),
      ),
      probabilitiesFromLogits: timeStep(
        maps,
        options.passes,
        () => undefined,
        ({ output }) => toProbabilityMap(output.data, output.dims, card),
      ),
      traceCardPostprocessing: timeStep(
        maps,
        options.passes,
        () => undefined,
        ({ map, trace }) => traceTile(map, trace),
      ),
      traceCardPostprocessingOnLogits: timeStep(
        maps,
        options.passes,
        () => undefined,
        ({ logits, trace }) => traceTile(logits, trace),
      ),
      traceThresholdOnly: timeStep(
        maps,
        options.passes,
        () => undefined,
        ({ map, trace }) => traceTile(map, { ...trace, seedThreshold: undefined }),
      ),
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

const program = new Command('tile-steps')
  .description('CPU per model tile of each step besides the model, one thread, over the real windows of a slide')
  .argument('<slide>', 'slide file (TIFF/SVS/PNG/JPEG)')
  .option('--models <dir>', 'models folder', DEFAULT_MODEL_FOLDER)
  .option('--tiles <n>', 'at most this many tiles, in grid order', positiveInteger, 400)
  .option('--passes <n>', 'timed passes over the tiles', positiveInteger, 3)
  .action(main);
await program.parseAsync();
