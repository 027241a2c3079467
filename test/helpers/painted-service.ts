/**
 * The domain service's parts on fake ports (fake-ports.ts), as its tests build them: a painted 512 x 512 slide
 * whose discs sit at known places on a 4 x 4 grid of 128-pixel model tiles, a fake segmenter that traces what it
 * reads, and the parts (tile runner, per-slide cache, contexts) wired as the facade wires them. Every polygon the
 * tests check went through the service's own read windows.
 */
import { expect } from 'vitest';
import { checkScoreSlide, checkStreamTiles } from '@glomseg/api/server/request-checks.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type {
  ScoreEvent,
  ScoreProgress,
  ScoreResult,
  ScoreSlideParams,
  StreamTilesParams,
  TileOutcome,
} from '@glomseg/shared/glomseg-service.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { polygonBBox } from '@glomseg/shared/rasterize.js';
import type { TileAddress } from '@glomseg/shared/tile-grid.js';
import { createGlomsegService, type ServiceOptions } from '../../server/src/service/glomseg-service.js';
import { scoreSlide, type ScoreSlideParts } from '../../server/src/service/score-slide.js';
import { SlideCache } from '../../server/src/service/slide-cache.js';
import { streamTiles } from '../../server/src/service/stream-tiles.js';
import { TileContexts, type TileContext } from '../../server/src/service/tile-context.js';
import { TileRunner, type TileRunnerOptions } from '../../server/src/service/tile-runner.js';
import { resolveLimits, type ServingLimits } from '../../server/src/validation/limits.js';
import {
  fakeCard,
  FakeModels,
  FakeScorer,
  FakeSegmenter,
  FakeSlides,
  paintedSlide,
  type Disc,
  type PaintedSlideOptions,
} from './fake-ports.js';

export const SLIDE = 'painted.tif';
/** 512 x 512 at 128-pixel tiles: a 4 x 4 grid. */
export const A: Disc = { x: 64, y: 64, r: 24 }; // inside tile (0, 0)
export const B: Disc = { x: 256, y: 192, r: 30 }; // across the border of tiles (1, 1) and (2, 1)
export const C: Disc = { x: 448, y: 448, r: 20 }; // inside tile (3, 3)
export const D: Disc = { x: 128, y: 384, r: 24 }; // on the corner of four tiles
export const DISCS = [A, B, C, D];
export const ROW0: TileAddress[] = [0, 1, 2, 3].map((col) => ({ col, row: 0 }));

export interface PaintedSetup {
  slide?: PaintedSlideOptions;
  card?: Partial<ModelCard>;
  runner?: TileRunnerOptions;
  limits?: Partial<ServingLimits>;
}

const toClose: Array<{ close(): unknown }> = [];

/** Closes what the tests of a file made (call in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(toClose.splice(0).map((part) => part.close()));
}

function ports(options: PaintedSetup) {
  const slide = paintedSlide({ id: SLIDE, discs: DISCS, ...options.slide });
  const segmenter = new FakeSegmenter(options.card ? fakeCard(options.card) : undefined);
  const scorer = new FakeScorer();
  const slides = new FakeSlides([slide]);
  return { slide, segmenter, scorer, slides, models: new FakeModels([segmenter]) };
}

/** The parts, wired as the facade wires them. */
export function paintedParts(options: PaintedSetup = {}) {
  const fakes = ports(options);
  const runner = new TileRunner(options.runner);
  const slideCache = new SlideCache(fakes.models);
  toClose.push(runner, slideCache);
  const contexts = new TileContexts(fakes.slides, fakes.models, slideCache);
  const parts: ScoreSlideParts = { contexts, runner, scoring: fakes.scorer, limits: resolveLimits(options.limits) };
  return { ...fakes, runner, slideCache, contexts, parts };
}

/** The facade on the same fakes. */
export function paintedService(options: PaintedSetup & { service?: Partial<ServiceOptions> } = {}) {
  const fakes = ports(options);
  const service = createGlomsegService({
    slides: fakes.slides,
    models: fakes.models,
    scoring: fakes.scorer,
    limits: options.limits,
    ...options.runner,
    ...options.service,
  });
  toClose.push(service);
  return { ...fakes, service };
}

/** A request's tile context, read as it asks (stain, background). */
export async function contextOf(contexts: TileContexts, params: Partial<StreamTilesParams> = {}): Promise<TileContext> {
  const checked = checkStreamTiles({ slideId: SLIDE, tiles: [{ col: 0, row: 0 }], ...params });
  const signal = new AbortController().signal;
  return contexts.reading(await contexts.open(checked, signal), checked, signal);
}

export function streamOf(
  parts: ScoreSlideParts,
  params: Partial<StreamTilesParams> & { tiles: TileAddress[] },
  signal = new AbortController().signal,
): AsyncIterable<TileOutcome> {
  return streamTiles(parts, checkStreamTiles({ slideId: SLIDE, ...params }), signal);
}

/** StreamTiles' outcomes in the order the tiles were asked for. */
export async function streamSorted(
  parts: ScoreSlideParts,
  params: Partial<StreamTilesParams> & { tiles: TileAddress[] },
): Promise<TileOutcome[]> {
  return (await collect(streamOf(parts, params))).sort((a, b) => a.requestIndex - b.requestIndex);
}

export function scoreOf(
  parts: ScoreSlideParts,
  params: Partial<ScoreSlideParams> = {},
  signal = new AbortController().signal,
): AsyncIterable<ScoreEvent> {
  return scoreSlide(parts, checkScoreSlide({ slideId: SLIDE, ...params }), signal);
}

export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

/** What a stream failed with; fails the test when it does not fail. */
export async function failureOf(stream: AsyncIterable<unknown>): Promise<unknown> {
  try {
    await collect(stream);
  } catch (error) {
    return error;
  }
  throw new Error('expected the stream to fail');
}

/** A polygon is this disc: same box to a pixel (pixel-edge tracing, simplified), area within 4% of pi r^2. */
export function expectDisc(polygon: GlomerulusPolygon, disc: Disc, r = disc.r): void {
  const box = polygonBBox(polygon);
  expect(Math.abs(box.x - (disc.x - r))).toBeLessThanOrEqual(1);
  expect(Math.abs(box.y - (disc.y - r))).toBeLessThanOrEqual(1);
  expect(Math.abs(box.width - 2 * r)).toBeLessThanOrEqual(1.5);
  expect(Math.abs(box.height - 2 * r)).toBeLessThanOrEqual(1.5);
  expect(polygon.area / (Math.PI * r * r)).toBeGreaterThan(0.96);
  expect(polygon.area / (Math.PI * r * r)).toBeLessThan(1.04);
}

export function byCentre(polygons: GlomerulusPolygon[], disc: Disc): GlomerulusPolygon {
  const distance = (p: GlomerulusPolygon) => {
    const b = polygonBBox(p);
    return Math.hypot(b.x + b.width / 2 - disc.x, b.y + b.height / 2 - disc.y);
  };
  return [...polygons].sort((a, b) => distance(a) - distance(b))[0];
}

export function progressOf(events: ScoreEvent[]): ScoreProgress[] {
  return events.flatMap((e) => (e.kind === 'progress' ? [e.progress] : []));
}

export function resultOf(events: ScoreEvent[]): ScoreResult {
  const last = events[events.length - 1];
  if (last.kind !== 'result') throw new Error(`the last event is ${last.kind}, not the result`);
  return last.result;
}
