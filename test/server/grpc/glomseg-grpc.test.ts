/**
 * The real server on 127.0.0.1:0, called by connect-node's typed gRPC client (another gRPC implementation than
 * the server's grpc-js), on the real slides in ../shared/data and the real model in models/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { PNG } from 'pngjs';
import { AnnotationFormat } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { HealthCheckResponse_ServingStatus } from '@glomseg/api/gen/health/v1/health_pb.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, REPO_ROOT, WSI } from '../../helpers/paths.js';
import { collect, statusOf } from '../../helpers/grpc.js';
import { until } from '../../helpers/until.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

let badFolder: string;

async function stillServing() {
  expect((await served.health.check({ service: 'glomseg.v1.Glomseg' })).status).toBe(
    HealthCheckResponse_ServingStatus.SERVING,
  );
  expect((await served.client.listSlides({})).slides.length).toBeGreaterThan(0);
}

const served = useGrpcApp(async () => {
  badFolder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-bad-'));
  const real = await readFile(path.join(EVAL_REGION, 'kidney-region-quarter.tif'));
  await writeFile(path.join(badFolder, 'truncated.tif'), real.subarray(0, 4096));
  await writeFile(
    path.join(badFolder, 'garbage.tif'),
    Buffer.from(Array.from({ length: 10000 }, (_, i) => (i * 7919) % 251)),
  );
  await writeFile(path.join(badFolder, 'empty.svs'), Buffer.alloc(0));
  return { slideFolders: [EVAL_REGION, WSI, badFolder] };
});

afterAll(async () => {
  await rm(badFolder, { recursive: true, force: true });
});

function idOf(slides: Array<{ id: string }>, name: string): string {
  const found = slides.find((s) => s.id === name || s.id.endsWith(`/${name}`));
  if (!found) throw new Error(`slide ${name} not listed: ${slides.map((s) => s.id).join(', ')}`);
  return found.id;
}

describe('glomseg.v1.Glomseg over real gRPC', () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    const { slides } = await served.client.listSlides({});
    ids = {
      region: idOf(slides, 'kidney-region.tif'),
      quarter: idOf(slides, 'kidney-region-quarter.tif'),
      cmu: idOf(slides, 'CMU-1-Small-Region.svs'),
      jp2k: idOf(slides, 'TCGA-CR-7395-01A-01-TS1-jp2k.svs'),
      truncated: idOf(slides, 'truncated.tif'),
      garbage: idOf(slides, 'garbage.tif'),
    };
  });

  it('answers health checks', async () => {
    await stillServing();
  });

  it('describes a pyramidal TIFF: size, levels with downsamples, tiles, compression', async () => {
    const info = await served.client.getSlideInfo({ slideId: ids.region });
    expect([info.width, info.height]).toEqual([6400, 4800]);
    expect(info.levels.filter((l) => !l.synthesized).map((l) => l.downsample)).toEqual([1, 2, 4, 8, 16]);
    expect([info.tileWidth, info.tileHeight]).toEqual([256, 256]);
    expect(info.compression).toBe('jpeg');
  });

  it('describes an Aperio SVS with its pixel size and without thumbnail/label/macro as levels', async () => {
    const info = await served.client.getSlideInfo({ slideId: ids.cmu });
    expect([info.width, info.height]).toEqual([2220, 2967]);
    expect(info.format).toBe('aperio-svs');
    expect(info.mppX).toBeCloseTo(0.499, 3);
    expect(info.mppSource).toBe('aperio');
    expect(info.levels.filter((l) => !l.synthesized)).toHaveLength(1);
  });

  it('reports each model with its tile grid on a slide', async () => {
    const { models } = await served.client.listModels({ slideId: ids.region });
    expect(models.length).toBeGreaterThan(0);
    const grid = models[0].grid!;
    expect(grid.cols * grid.tileSizeLevel0).toBeGreaterThanOrEqual(6400);
    expect(grid.rows * grid.tileSizeLevel0).toBeGreaterThanOrEqual(4800);
  });

  it('streams one result per tile with polygons in level-0 pixels, cached ones first the second time', async () => {
    const { models } = await served.client.listModels({ slideId: ids.region });
    const grid = models[0].grid!;
    const tiles = [
      { col: 1, row: 1 },
      { col: 2, row: 1 },
      { col: 1, row: 2 },
    ];
    const first = await collect(served.client.streamTiles({ slideId: ids.region, tiles }));
    expect(first).toHaveLength(3);
    expect(first.every((r) => !r.cached)).toBe(true);
    for (const r of first) {
      expect(r.bounds!.width).toBeCloseTo(grid.tileSizeLevel0, 0);
      for (const p of r.polygons) {
        const xy = p.exterior!.xy;
        for (let i = 0; i < xy.length; i += 2) {
          expect(xy[i]).toBeGreaterThanOrEqual(r.bounds!.x - 1e-6);
          expect(xy[i]).toBeLessThanOrEqual(r.bounds!.x + r.bounds!.width + 1e-6);
          expect(xy[i + 1]).toBeGreaterThanOrEqual(r.bounds!.y - 1e-6);
          expect(xy[i + 1]).toBeLessThanOrEqual(r.bounds!.y + r.bounds!.height + 1e-6);
        }
        expect(p.area).toBeGreaterThan(0);
        expect(p.meanProbability).toBeGreaterThan(0);
      }
    }
    const second = await collect(
      served.client.streamTiles({ slideId: ids.region, tiles: [{ col: 3, row: 3 }, ...tiles] }),
    );
    expect(second).toHaveLength(4);
    expect(second.slice(0, 3).every((r) => r.cached)).toBe(true);
    expect(second[3].cached).toBe(false);
    const key = (r: (typeof first)[number]) => `${r.tile!.col},${r.tile!.row}`;
    const firstByTile = new Map(first.map((r) => [key(r), r]));
    for (const r of second.slice(0, 3)) expect(r.polygons).toEqual(firstByTile.get(key(r))!.polygons);
    expect(second.slice(0, 3).map(key)).toEqual(tiles.map((t) => `${t.col},${t.row}`));
  });

  it('sends a heatmap PNG with each inferred tile when asked: the probabilities the polygons were cut from', async () => {
    const { models } = await served.client.listModels({ slideId: ids.region });
    const { threshold } = models[0];
    const tiles = [
      { col: 1, row: 1 },
      { col: 2, row: 2 },
    ];
    const results = await collect(
      served.client.streamTiles({ slideId: ids.region, tiles, includeProbabilities: true }),
    );
    const plain = await collect(served.client.streamTiles({ slideId: ids.region, tiles }));
    expect(plain.every((r) => r.probabilityPng.byteLength === 0)).toBe(true);
    let polygons = 0;
    for (const r of results) {
      const png = PNG.sync.read(Buffer.from(r.probabilityPng));
      const bounds = r.bounds!;
      expect(Math.max(png.width, png.height)).toBeLessThanOrEqual(128);
      const perPixel = bounds.width / png.width; // level-0 pixels per raster pixel, the same both ways
      expect(bounds.height / png.height).toBeCloseTo(perPixel, 0);
      const level = (x: number, y: number) =>
        png.data[4 * (Math.floor((y - bounds.y) / perPixel) * png.width + Math.floor((x - bounds.x) / perPixel))];
      // Inside each polygon (its pole of a disc: the middle of its bounding box is inside these blobs), the
      // probability is over the cut; the tile's corners, on the sides of no glomerulus, are far below it.
      for (const p of r.polygons) {
        const xy = p.exterior!.xy;
        const xs = xy.filter((_, i) => i % 2 === 0);
        const ys = xy.filter((_, i) => i % 2 === 1);
        const [cx, cy] = [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
        if (
          cx > bounds.x + 8 &&
          cy > bounds.y + 8 &&
          cx < bounds.x + bounds.width - 8 &&
          cy < bounds.y + bounds.height - 8
        ) {
          expect(level(cx, cy) / 255).toBeGreaterThan(threshold - 0.15);
          polygons++;
        }
      }
      const grey = Array.from({ length: png.width * png.height }, (_, i) => png.data[4 * i]);
      expect(grey.filter((g) => g < 0.1 * 255).length).toBeGreaterThan(grey.length / 4);
    }
    expect(polygons).toBeGreaterThan(0);
  });

  it('scores a region against annotations: merged polygons and Dice metrics', async () => {
    const content = await readFile(KIDNEY_REGION_GEOJSON, 'utf8');
    const wire = await collect(
      served.client.scoreSlide({
        slideId: ids.region,
        region: { x: 0, y: 0, width: 3200, height: 2400 },
        annotations: { content, format: AnnotationFormat.GEOJSON, name: 'kidney-region.geojson' },
      }),
    );
    // Progress, then the polygons in batches, then the summary that ends the stream.
    const cases = wire.map((e) => e.event.case);
    expect(cases.at(-1)).toBe('result');
    expect(cases.lastIndexOf('progress')).toBeLessThan(cases.indexOf('polygons'));
    const events = await collect(
      scoreEventsFromProto(
        (async function* () {
          yield* wire;
        })(),
      ),
    );
    const progress = events.flatMap((e) => (e.kind === 'progress' ? [e.progress] : []));
    const last = events.at(-1)!;
    if (last.kind !== 'result') throw new Error('no result');
    const { result } = last;
    expect(progress.at(-1)!.tilesDone).toBe(progress.at(-1)!.tilesTotal);
    expect(result.metrics!.truthCount).toBeGreaterThan(0);
    expect(result.metrics!.globalDice).toBeGreaterThan(0.5);
    expect(result.polygons.length).toBeGreaterThan(0);
    expect(result.polygons.every((p) => p.touches.length === 0)).toBe(true);
  });

  it('describes and streams an Aperio JPEG 2000 slide (server/src/slides/tiff-codecs/jpeg2000.ts)', async () => {
    const info = await served.client.getSlideInfo({ slideId: ids.jp2k });
    expect([info.format, info.compression]).toEqual(['aperio-svs', 'jpeg2000']);
    expect(info.stain!.unmeasuredBecause ?? '').not.toMatch(/unsupported compression/i); // its pixels were read
    const results = await collect(served.client.streamTiles({ slideId: ids.jp2k, tiles: [{ col: 0, row: 0 }] }));
    expect(results.map((r) => `${r.tile!.col},${r.tile!.row}`)).toEqual(['0,0']);
    await stillServing();
  });

  it.each([
    ['an unknown slide', { slideId: 'no-such-slide.tif' }, grpc.status.NOT_FOUND],
    [
      'a path outside the slide folders',
      { slideId: '../../etc/passwd' },
      [grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT],
    ],
    ['an absolute path', { slideId: '/etc/passwd' }, [grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT]],
    ['an empty slide id', { slideId: '' }, grpc.status.INVALID_ARGUMENT],
  ])('GetSlideInfo on %s gets its status code and the server keeps serving', async (_name, request, expected) => {
    const { code, details } = await statusOf(served.client.getSlideInfo(request));
    expect([expected].flat()).toContain(code);
    expect(details.length).toBeGreaterThan(10);
    await stillServing();
  });

  it.each([
    ['5,000 characters long', `${'x'.repeat(4996)}.tif`, /^slide_id is 5000 characters long; at most 4096$/],
    ['blank', ' ', /^slide_id is required$/],
  ])(
    'checks a slide id %s alike in every call that names one: GetSlideInfo, ListModels, StreamTiles, ScoreSlide',
    async (_name, slideId, words) => {
      const answers = {
        GetSlideInfo: await statusOf(served.client.getSlideInfo({ slideId })),
        ListModels: await statusOf(served.client.listModels({ slideId })),
        StreamTiles: await statusOf(collect(served.client.streamTiles({ slideId, tiles: [{ col: 0, row: 0 }] }))),
        ScoreSlide: await statusOf(collect(served.client.scoreSlide({ slideId }))),
      };
      for (const [method, answer] of Object.entries(answers)) {
        expect(answer.code, method).toBe(grpc.status.INVALID_ARGUMENT);
        expect(answer.details, method).toMatch(words);
      }
      // ListModels without a slide (slide_id empty) is no error: the cards, without grids.
      expect((await served.client.listModels({ slideId: '' })).models.every((m) => m.grid === undefined)).toBe(true);
    },
  );

  // A slide file that does not open as what its name claims is a bad argument whatever the server's state
  // (FAILED_PRECONDITION is for what the server could do once set up otherwise: a codec it lacks); the README's
  // error table says the same.
  it.each(['truncated', 'garbage'])(
    'a %s TIFF gets INVALID_ARGUMENT as the README says, with a clear message, not a crash',
    async (name) => {
      const { code, details } = await statusOf(served.client.getSlideInfo({ slideId: ids[name] }));
      expect(grpc.status[code]).toBe('INVALID_ARGUMENT');
      expect(details).toMatch(/not a readable TIFF: .*\.tif/);
      const readme = (await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8')).replace(/\s+/g, ' ');
      const listed = (status: string) =>
        readme.match(new RegExp(`${status} \\(([^)]*(?:\\([^)]*\\)[^)]*)*)\\)`))?.[1] ?? '';
      expect(listed('INVALID_ARGUMENT')).toMatch(/a slide file that does not open: not an image, truncated/);
      expect(listed('FAILED_PRECONDITION')).not.toMatch(/unreadable file|does not open/);
      await stillServing();
    },
  );

  it.each([
    ['outside the grid', [{ col: 10_000, row: 0 }], grpc.status.INVALID_ARGUMENT],
    ['negative', [{ col: -1, row: 0 }], grpc.status.INVALID_ARGUMENT],
    ['missing', [], grpc.status.INVALID_ARGUMENT],
  ])('StreamTiles with a tile %s gets INVALID_ARGUMENT', async (_name, tiles, expected) => {
    const { code, details } = await statusOf(collect(served.client.streamTiles({ slideId: ids.region, tiles })));
    expect(code).toBe(expected);
    expect(details.length).toBeGreaterThan(10);
    await stillServing();
  });

  it('rejects too many tiles, a bad threshold, a bad region and an unknown model', async () => {
    // Over the tile budget: RESOURCE_EXHAUSTED, as the README says (test/server/validation/request-validation.test.ts).
    const many = Array.from({ length: 200_000 }, () => ({ col: 0, row: 0 }));
    expect((await statusOf(collect(served.client.streamTiles({ slideId: ids.region, tiles: many })))).code).toBe(
      grpc.status.RESOURCE_EXHAUSTED,
    );
    expect(
      (
        await statusOf(
          collect(served.client.streamTiles({ slideId: ids.region, tiles: [{ col: 0, row: 0 }], threshold: 7 })),
        )
      ).code,
    ).toBe(grpc.status.INVALID_ARGUMENT);
    expect(
      (
        await statusOf(
          collect(served.client.scoreSlide({ slideId: ids.region, region: { x: 0, y: 0, width: -5, height: 10 } })),
        )
      ).code,
    ).toBe(grpc.status.INVALID_ARGUMENT);
    expect(
      (
        await statusOf(
          collect(served.client.scoreSlide({ slideId: ids.region, region: { x: 1e9, y: 0, width: 10, height: 10 } })),
        )
      ).code,
    ).toBe(grpc.status.INVALID_ARGUMENT);
    expect(
      (
        await statusOf(
          collect(served.client.streamTiles({ slideId: ids.region, modelId: 'nope', tiles: [{ col: 0, row: 0 }] })),
        )
      ).code,
    ).toBe(grpc.status.NOT_FOUND);
    await stillServing();
  });

  it('rejects malformed GeoJSON annotations with INVALID_ARGUMENT before doing any work', async () => {
    const before = served.app.service.stats().tilesComputed;
    const { code, details } = await statusOf(
      collect(
        served.client.scoreSlide({
          slideId: ids.quarter,
          annotations: {
            content:
              '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":"oops"}}]}',
            format: AnnotationFormat.GEOJSON,
          },
        }),
      ),
    );
    expect(code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(details).toMatch(/coordinates|polygon|geojson/i);
    expect(served.app.service.stats().tilesComputed).toBe(before);
    await stillServing();
  });

  it('a cancelled stream leaves no work running or queued', async () => {
    // At an assumed 1 um/px the model grid is 4x finer than the file's own scale: many tiles, none cached.
    const { models } = await served.client.listModels({ slideId: ids.region, mppOverride: 1 });
    const grid = models[0].grid!;
    const tiles = [];
    for (let row = 0; row < grid.rows; row++) for (let col = 0; col < grid.cols; col++) tiles.push({ col, row });
    expect(tiles.length).toBeGreaterThan(50);
    const before = served.app.service.stats();
    const abort = new AbortController();
    const replies = served.client.streamTiles({ slideId: ids.region, tiles, mppOverride: 1 }, { signal: abort.signal });
    const stream = replies[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false);
    abort.abort();
    await stream.return?.().catch(() => {});
    await until(() => {
      const s = served.app.service.stats();
      return s.activeStreams === 0 && s.scheduler.running === 0 && s.scheduler.queued === 0;
    });
    const after = served.app.service.stats();
    expect(after.cancelledStreams).toBe(before.cancelledStreams + 1);
    expect(after.tilesComputed - before.tilesComputed).toBeLessThan(10);
    // Nothing keeps running afterwards: a later one-tile request (the last tile, never reached) computes its tile and
    // nothing else, where work left over from the cancelled stream would be counted with it.
    const later = await collect(
      served.client.streamTiles({ slideId: ids.region, tiles: [tiles[tiles.length - 1]], mppOverride: 1 }),
    );
    expect(later).toHaveLength(1);
    expect(later[0].cached).toBe(false);
    expect(served.app.service.stats().tilesComputed).toBe(after.tilesComputed + 1);
    await stillServing();
  });
});
