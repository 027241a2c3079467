/**
 * Per-slide stain statistics and tissue, over real gRPC with the real model: GetSlideInfo reports a slide's own
 * statistics, tiles of bare glass are skipped (and said to be), and stain normalisation is a request choice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLargeSlide } from '../../../server/src/bench/large-slide.js';
import { StainNormalization } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { scoreEventsFromProto } from '@glomseg/api/client/from-proto.js';
import { EVAL_REGION } from '../../helpers/paths.js';
import { collect, statusOf } from '../../helpers/grpc.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

let folder: string;
const ids = { region: 'kidney-region.tif', glass: 'on-glass.tif', blank: 'blank.png' };

const served = useGrpcApp(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-stain-'));
  // The 6400 x 4800 eval region on an 8192 x 8192 slide of white glass: the right and bottom bands are background.
  await makeLargeSlide({
    source: path.join(EVAL_REGION, 'kidney-region.tif'),
    out: path.join(folder, ids.glass),
    width: 8192,
    surround: 'glass',
  });
  await sharp({ create: { width: 2048, height: 2048, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .png()
    .toFile(path.join(folder, ids.blank));
  await writeFile(path.join(folder, 'README'), 'test slides');
  return { slideFolders: [folder], slideFiles: [path.join(EVAL_REGION, 'kidney-region.tif')] };
});

beforeAll(async () => {
  const { slides } = await served.client.listSlides({});
  for (const key of Object.keys(ids) as Array<keyof typeof ids>)
    ids[key] = slides.find((s) => s.id.endsWith(ids[key]))!.id;
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('stain statistics and background tiles', () => {
  it("reports a slide's own Lab statistics over its tissue, measured on a low-resolution level", async () => {
    const info = await served.client.getSlideInfo({ slideId: ids.region });
    expect(info.stain!.measured).toBe(true);
    expect(info.stain!.level).toBeGreaterThan(0);
    expect(info.stain!.tissueMapped).toBe(true);
    expect(info.stain!.tissueFraction).toBeGreaterThan(0.9); // the eval region is nearly all tissue
    // PAS kidney: mid lightness, magenta (a > 0), towards blue (b < 0); spread of several units on each axis.
    const [L, a, b] = info.stain!.labMean;
    expect(L).toBeGreaterThan(30);
    expect(L).toBeLessThan(70);
    expect(a).toBeGreaterThan(15);
    expect(b).toBeLessThan(0);
    for (const s of info.stain!.labStd) expect(s).toBeGreaterThan(2);

    const glass = await served.client.getSlideInfo({ slideId: ids.glass });
    expect(glass.stain!.tissueFraction).toBeLessThan(0.6);
    expect(glass.stain!.tissueFraction).toBeGreaterThan(0.3);
    const blank = await served.client.getSlideInfo({ slideId: ids.blank });
    expect(blank.stain!.measured).toBe(false);
    expect(blank.stain!.unmeasuredBecause).toMatch(/too little tissue/);
  });

  it('skips tiles of bare glass, says so, and infers them only when asked', async () => {
    const { models } = await served.client.listModels({ slideId: ids.glass });
    const grid = models[0].grid!;
    const corner = { col: grid.cols - 1, row: grid.rows - 1 }; // white glass
    const tissue = { col: 1, row: 1 }; // inside the eval region
    const before = served.app.service.stats().tilesComputed;
    const results = await collect(served.client.streamTiles({ slideId: ids.glass, tiles: [corner, tissue] }));
    const byTile = new Map(results.map((r) => [`${r.tile!.col},${r.tile!.row}`, r]));
    expect(byTile.get(`${corner.col},${corner.row}`)!.skipped).toBe(true);
    expect(byTile.get(`${corner.col},${corner.row}`)!.polygons).toEqual([]);
    expect(byTile.get('1,1')!.skipped).toBe(false);
    expect(served.app.service.stats().tilesComputed).toBe(before + 1);

    const asked = await collect(
      served.client.streamTiles({ slideId: ids.glass, tiles: [corner], includeBackground: true }),
    );
    expect(asked[0].skipped).toBe(false);
    expect(served.app.service.stats().tilesComputed).toBe(before + 2);
  });

  it('scores a slide on glass with its background skipped, finding what scoring every tile finds', async () => {
    const score = async (includeBackground: boolean) => {
      const events = await collect(
        scoreEventsFromProto(served.client.scoreSlide({ slideId: ids.glass, includeBackground })),
      );
      const last = events.at(-1)!;
      if (last.kind !== 'result') throw new Error('no result');
      return { last: events.flatMap((e) => (e.kind === 'progress' ? [e.progress] : [])).at(-1)!, result: last.result };
    };
    const skipping = await score(false);
    const all = await score(true);
    expect(skipping.last.tilesDone).toBe(skipping.last.tilesTotal);
    expect(skipping.last.tilesSkipped).toBeGreaterThan(skipping.last.tilesTotal / 4);
    expect(all.last.tilesSkipped).toBe(0);
    expect(skipping.result.polygons.length).toBeGreaterThan(20);
    expect(skipping.result.polygons.length).toBe(all.result.polygons.length);
  });

  it('normalises stain on request against the card reference, cached apart from unnormalised results', async () => {
    const tiles = [{ col: 2, row: 2 }];
    const before = served.app.service.stats().tilesComputed;
    const off = await collect(
      served.client.streamTiles({ slideId: ids.region, tiles, stainNormalization: StainNormalization.OFF }),
    );
    const reinhard = await collect(
      served.client.streamTiles({ slideId: ids.region, tiles, stainNormalization: StainNormalization.REINHARD }),
    );
    expect(served.app.service.stats().tilesComputed).toBe(before + 2);
    expect(off[0].cached || reinhard[0].cached).toBe(false);
    // Same slide, mapped to statistics close to its own: the same glomeruli, outlines that differ a little.
    expect(reinhard[0].polygons.length).toBeGreaterThan(0);
    expect(Math.abs(reinhard[0].polygons.length - off[0].polygons.length)).toBeLessThanOrEqual(1);
  });

  it('refuses normalisation of a slide with no tissue to measure, and an unknown method', async () => {
    const blank = await statusOf(
      collect(
        served.client.streamTiles({
          slideId: ids.blank,
          tiles: [{ col: 0, row: 0 }],
          stainNormalization: StainNormalization.REINHARD,
        }),
      ),
    );
    expect(blank.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(blank.details).toMatch(/too little tissue.*'off'/);
    const unknown = await statusOf(
      collect(
        served.client.streamTiles({
          slideId: ids.region,
          tiles: [{ col: 0, row: 0 }],
          stainNormalization: 7 as StainNormalization,
        }),
      ),
    );
    expect(unknown.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unknown.details).toMatch(/stain_normalization/);
  });
});
