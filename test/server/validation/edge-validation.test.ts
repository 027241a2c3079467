/**
 * The probe's bad requests, replayed against the real server (real gRPC client over loopback, real slides and
 * model, crafted TIFFs): each is refused up front with its status and a message in our words, and no tile is
 * computed for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  AnnotationFormat,
  ScoreSlideRequestSchema,
  StreamTilesRequestSchema,
} from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { libraryDetail } from '../../../server/src/slides/library-detail.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON } from '../../helpers/paths.js';
import { collect, statusOf } from '../../helpers/grpc.js';
import { hugeTiledTiff, oneRowStripTiff } from './crafted-tiff.js';
import { writeTiledTiff } from '../slides/tiff-fixture.js';
import { callGrpcWeb } from '../web/grpc-web-client.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

let folder: string;
let truth: string;
const REGION = 'eval-region/kidney-region.tif';

const served = useGrpcApp(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-crafted-'));
  await writeFile(path.join(folder, 'huge.tif'), hugeTiledTiff(1_000_000, 1_000_000, 4096));
  await writeFile(path.join(folder, 'big-tiles.tif'), hugeTiledTiff(8192, 8192, 4096));
  await writeFile(path.join(folder, 'one-row-strips.tif'), oneRowStripTiff(2000, 2000));
  for (const [name, tags] of Object.entries(CRAFTED_TAGS)) {
    await writeFile(
      path.join(folder, name),
      writeTiledTiff([{ width: 256, height: 256, tileSize: 256, rgb: new Uint8Array(256 * 256 * 3), tags }]),
    );
  }
  truth = await readFile(KIDNEY_REGION_GEOJSON, 'utf8');
  return { slideFolders: [EVAL_REGION, folder], httpPort: 0 };
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

const slideIdOf = (name: string) => `${path.basename(folder)}/${name}`;

/** Files that claim sizes past a 32-bit field (TIFF tags are unsigned 32-bit): 256 x 256 pixels in truth. */
const CRAFTED_TAGS: Record<string, Record<number, number>> = {
  'width-2-31.tif': { 256: 2 ** 31 },
  'height-2-32.tif': { 257: 2 ** 32 - 1 },
  'tile-width-2-31.tif': { 322: 2 ** 31 },
  'samples-2-31.tif': { 277: 2 ** 31 },
};

async function refused(method: 'ScoreSlide' | 'StreamTiles', request: Record<string, unknown>) {
  const before = served.app.service.stats().tilesComputed;
  const stream: AsyncIterable<unknown> =
    method === 'ScoreSlide'
      ? served.client.scoreSlide(request as MessageInitShape<typeof ScoreSlideRequestSchema>)
      : served.client.streamTiles(request as MessageInitShape<typeof StreamTilesRequestSchema>);
  const status = await statusOf(collect(stream));
  // Refused up front: not one model tile was computed for it.
  expect(served.app.service.stats().tilesComputed).toBe(before);
  expect(status.details).not.toMatch(/internal|RangeError|serializ/i);
  return status;
}

describe('request validation at the edge', () => {
  beforeAll(() => {
    // Ids carry the folder name when several folders are served.
    expect(slideIdOf('x')).toMatch(/^glomseg-crafted-/);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['1e-30', 1e-30],
    ['1.5', 1.5],
  ])('refuses threshold %s with INVALID_ARGUMENT instead of falling back to the default', async (_name, threshold) => {
    for (const method of ['ScoreSlide', 'StreamTiles'] as const) {
      const status = await refused(method, { slideId: REGION, threshold, tiles: [{ col: 0, row: 0 }] });
      expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(status.details).toContain('threshold');
    }
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['1e-50', 1e-50],
    ['-2', -2],
  ])('refuses mpp_override %s with INVALID_ARGUMENT', async (_name, mppOverride) => {
    for (const method of ['ScoreSlide', 'StreamTiles'] as const) {
      const status = await refused(method, { slideId: REGION, mppOverride, tiles: [{ col: 0, row: 0 }] });
      expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(status.details).toContain('mpp_override');
    }
  });

  it('refuses a region that mpp_override=100 blows up to a million tiles with RESOURCE_EXHAUSTED, as the README says', async () => {
    const status = await refused('ScoreSlide', { slideId: REGION, mppOverride: 100 });
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/model tiles; one request may cover at most/);
  });

  it('refuses the whole of a slide claiming 10^6 x 10^6 pixels with RESOURCE_EXHAUSTED', async () => {
    const status = await refused('ScoreSlide', { slideId: slideIdOf('huge.tif') });
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('checks the Dice grid before inference: -5 and 2^31-1 are invalid, a 1 x 1 grid is too many cells', async () => {
    const annotations = { content: truth, format: AnnotationFormat.GEOJSON };
    const negative = await refused('ScoreSlide', { slideId: REGION, annotations, diceTileWidth: -5 });
    expect(negative.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(negative.details).toContain('dice_tile_width');
    const huge = await refused('ScoreSlide', {
      slideId: REGION,
      annotations,
      diceTileWidth: 2 ** 31 - 1,
      diceTileHeight: 2 ** 31 - 1,
    });
    expect(huge.code).toBe(grpc.status.INVALID_ARGUMENT);
    const tiny = await refused('ScoreSlide', { slideId: REGION, annotations, diceTileWidth: 1, diceTileHeight: 1 });
    expect(tiny.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(tiny.details).toMatch(/Dice grid .* cells; at most/);
  });

  it.each([
    ['width 2^31', { x: 0, y: 0, width: 2 ** 31, height: 100 }],
    ['NaN x', { x: Number.NaN, y: 0, width: 100, height: 100 }],
    ['negative height', { x: 0, y: 0, width: 100, height: -1 }],
  ])('refuses a region with %s as INVALID_ARGUMENT', async (_name, region) => {
    const status = await refused('ScoreSlide', { slideId: REGION, region });
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain('region');
  });

  it('refuses a slide whose 4096 x 4096 deflate tiles decode to 48 MiB each, before decoding', async () => {
    const status = await refused('StreamTiles', { slideId: slideIdOf('big-tiles.tif'), tiles: [{ col: 0, row: 0 }] });
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/4096 x 4096 pixel tiles .* MiB per tile/);
  });

  it('refuses a window that spans hundreds of one-row deflate strips, before decoding', async () => {
    const status = await refused('StreamTiles', {
      slideId: slideIdOf('one-row-strips.tif'),
      tiles: [{ col: 0, row: 0 }],
    });
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/stored strips .* per read/);
  });

  it("keeps a decoding library's bug-report text and links out of client messages", () => {
    const geotiffText = new Error(
      'Unsupported data format/bitsPerSample. Precision may be lost. Please report if you get this message to https://github.com/geotiffjs/geotiff.js/issues',
    );
    expect(libraryDetail(geotiffText)).toMatch(/^Unsupported data format\/bitsPerSample\./);
    expect(libraryDetail(geotiffText)).not.toMatch(/report|github|https?:/i);
    expect(libraryDetail(new Error('Please report this at https://github.com/x/y'))).not.toMatch(/report|github/i);
  });
});

describe('gRPC-Web', () => {
  async function grpcWebStatus(method: string, message: number[]): Promise<{ status: string | null; message: string }> {
    const frame = new Uint8Array(5 + message.length);
    new DataView(frame.buffer).setUint32(1, message.length);
    frame.set(message, 5);
    const response = await fetch(`${served.app.httpUrl}/glomseg.v1.Glomseg/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1' },
      body: frame,
    });
    const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
    const status = response.headers.get('grpc-status') ?? /grpc-status:\s*(\d+)/.exec(text)?.[1] ?? null;
    const raw = response.headers.get('grpc-message') ?? /grpc-message:\s*([^\r\n]*)/.exec(text)?.[1] ?? '';
    return { status, message: decodeURIComponent(raw) };
  }

  it.each([
    ['a truncated length-delimited field', 'GetSlideInfo', [0x0a, 0x7f, 0x61]],
    ['an invalid wire type', 'ScoreSlide', [0x0f, 0x01]],
    ['a string that is not UTF-8', 'GetSlideInfo', [0x0a, 0x02, 0xc3, 0x28]],
  ])('answers a message with %s with INVALID_ARGUMENT, not INTERNAL', async (_name, method, bytes) => {
    const { status, message } = await grpcWebStatus(method, bytes);
    expect(status).toBe(String(grpc.status.INVALID_ARGUMENT));
    expect(message).toMatch(/not a valid glomseg\.v1\.\w+Request message/);
  });

  it('still answers a valid message', async () => {
    const slideId = Buffer.from('no-such.tif');
    const { status } = await grpcWebStatus('GetSlideInfo', [0x0a, slideId.length, ...slideId]);
    expect(status).toBe(String(grpc.status.NOT_FOUND));
  });
});

describe('HTTP routes', () => {
  it('answers malformed percent-encoding with 400, not a 500 URIError', async () => {
    for (const route of ['/api/slides/%E0%A4%A/tiles/0/0/0', '/plugin/%zz.js', '/api/slides/%/tiles/0/0/0']) {
      const response = await fetch(`${served.app.httpUrl}${route}`);
      expect(response.status, route).toBe(400);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_ARGUMENT');
      expect(body.error.message).toMatch(/percent-encoding/);
    }
  });
});

describe('crafted files whose sizes do not fit the API', () => {
  const methods = [
    ['GetSlideInfo', 'GetSlideInfoRequest', 'SlideInfo'],
    ['ListModels', 'ListModelsRequest', 'ListModelsResponse'],
  ] as const;

  it.each(Object.keys(CRAFTED_TAGS))(
    '%s: GetSlideInfo and ListModels(slide_id) refuse it over gRPC as not a readable TIFF',
    async (name) => {
      for (const call of [
        () => served.client.getSlideInfo({ slideId: slideIdOf(name) }),
        () => served.client.listModels({ slideId: slideIdOf(name) }),
      ]) {
        const status = await statusOf(call());
        expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(status.details).toMatch(
          new RegExp(`^not a readable TIFF: ${name.replace('.', '\\.')}: .* at most (1073741824|65535)`),
        );
      }
    },
  );

  it.each(Object.keys(CRAFTED_TAGS))('%s: the same over gRPC-Web', async (name) => {
    for (const [method, request, response] of methods) {
      const reply = await callGrpcWeb(served.app.httpUrl!, method, request, response, { slideId: slideIdOf(name) });
      expect(reply.status, method).toBe(grpc.status.INVALID_ARGUMENT);
      expect(reply.message, method).toMatch(/^not a readable TIFF: .* at most (1073741824|65535)/);
    }
  });

  it('lists them, and serves the next call', async () => {
    const ids = (await served.client.listSlides({})).slides.map((slide) => slide.id);
    for (const name of Object.keys(CRAFTED_TAGS)) expect(ids).toContain(slideIdOf(name));
    expect((await served.client.getSlideInfo({ slideId: REGION })).width).toBeGreaterThan(0);
  });
});
