/**
 * Slides by URL: real pyramidal TIFFs served by a real HTTP server with Range support on loopback, read through
 * the slide catalog (geotiff's remote source with our HTTP client). Same metadata and pixels as the local file,
 * only the needed bytes fetched, transient faults retried, and only allowed URLs fetched at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SlideCatalog } from '../../../server/src/slides/slide-catalog.js';
import { SlideUrlPolicy } from '../../../server/src/slides/slide-url-policy.js';
import { RangeServer } from '../../../server/src/bench/range-file-server.js';
import { EVAL_REGION, WSI } from '../../helpers/paths.js';
import { rejection } from '../../helpers/rejection.js';

const REGION = path.join(EVAL_REGION, 'kidney-region.tif');
const QUARTER = path.join(EVAL_REGION, 'kidney-region-quarter.tif');
const SVS = path.join(WSI, 'CMU-1-Small-Region.svs');

let http: RangeServer;
let local: SlideCatalog;
beforeAll(async () => {
  http = await RangeServer.start();
  local = await SlideCatalog.forFiles([REGION, QUARTER, SVS]);
});
afterAll(async () => {
  await local?.close();
  await http?.close();
});

async function withCatalog<T>(prefixes: string[], body: (catalog: SlideCatalog) => Promise<T>): Promise<T> {
  const catalog = await SlideCatalog.create({ folders: [], urlPrefixes: prefixes });
  try {
    return await body(catalog);
  } finally {
    await catalog.close();
  }
}

describe('slides by URL', () => {
  it('reads the same metadata and pixels as the local file, fetching only the header and the tiles needed', async () => {
    const url = http.serve('slides/kidney-region.tif', { file: REGION });
    const svsUrl = http.serve('slides/CMU-1-Small-Region.svs', { file: SVS });
    await withCatalog([`${http.url}/slides/`], async (catalog) => {
      // The most a read may fetch: a quarter of the 14 MB region; of the 1.9 MB SVS, whose label and macro IFDs sit
      // at the end of the file, less than all of it.
      for (const [remoteId, file, share] of [
        [url, REGION, 0.25],
        [svsUrl, SVS, 0.5],
      ] as const) {
        const before = http.bytesSent;
        const remote = await catalog.open(remoteId);
        const near = await local.open(path.basename(file));
        const { id: _a, name: _b, ...remoteMeta } = remote.metadata;
        const { id: _c, name: _d, ...localMeta } = near.metadata;
        expect(remoteMeta).toEqual(localMeta);
        expect(remote.metadata.name).toBe(path.basename(file));
        const region = { level: 0, x: 1000, y: 700, width: 512, height: 512 };
        const [a, b] = await Promise.all([remote.readRegion(region), near.readRegion(region)]);
        expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
        // A 512 x 512 read of a slide many times that size fetches a part of the file.
        const fetched = http.bytesSent - before;
        expect(fetched).toBeGreaterThan(0);
        expect(fetched).toBeLessThan((await stat(file)).size * share);
      }
    });
  });

  it('retries transient server errors and says plainly what is wrong with the rest', async () => {
    const flaky = http.serve('slides/flaky.tif', { file: QUARTER, failNext: 2 });
    const moved = http.serve('slides/moved.tif', { file: QUARTER, redirectTo: `${http.url}/private/target.tif` });
    http.serve('private/target.tif', { file: QUARTER });
    const whole = http.serve('slides/no-range.tif', { file: QUARTER, ignoreRange: true });
    await withCatalog([`${http.url}/slides/`], async (catalog) => {
      const slide = await catalog.open(flaky);
      expect(slide.metadata.width).toBe(1600);
      expect(http.routes.get('/slides/flaky.tif')!.failNext).toBe(0);

      const requestsBefore = http.requests;
      const redirected = await rejection(catalog.open(moved));
      expect(redirected.code).toBe('FAILED_PRECONDITION');
      expect(redirected.message).toMatch(/redirect/);
      expect(http.requests - requestsBefore).toBe(1); // the redirect was not followed

      expect((await rejection(catalog.open(whole))).message).toMatch(/range requests/);
      const missing = await rejection(catalog.open(`${http.url}/slides/missing.tif`));
      expect(missing.code).toBe('NOT_FOUND');
      expect(missing.message).toMatch(/404/);
    });
  });

  it('fetches only URLs under an allowed prefix', async () => {
    http.serve('secret/kidney.tif', { file: QUARTER });
    const requestsBefore = http.requests;
    await withCatalog([`${http.url}/slides/`], async (catalog) => {
      for (const id of [
        `${http.url}/secret/kidney.tif`,
        `${http.url}/slides/../secret/kidney.tif`,
        `${http.url}/slidesX/kidney.tif`,
        `http://user:pw@127.0.0.1:${new URL(http.url).port}/slides/kidney.tif`,
        `http://169.254.169.254/slides/latest.tif`,
        `file:///etc/passwd.tif`,
      ]) {
        const error = await rejection(catalog.open(id));
        expect(error.code, id).toBe('INVALID_ARGUMENT');
      }
    });
    await withCatalog([], async (catalog) => {
      expect((await rejection(catalog.open(`${http.url}/slides/kidney-region.tif`))).message).toMatch(
        /--slide-url-prefix/,
      );
    });
    expect(http.requests).toBe(requestsBefore);
    // A presigned URL as prefix allows exactly itself.
    const exact = new SlideUrlPolicy(['https://bucket.example/slide.svs?X-Amz-Signature=abc']);
    expect(exact.check('https://bucket.example/slide.svs?X-Amz-Signature=abc').href).toMatch(/Signature=abc/);
    expect(() => exact.check('https://bucket.example/slide.svs?X-Amz-Signature=other')).toThrow(
      /not under an allowed prefix/,
    );
  });

  it('reads s3://bucket/key through a presigned URL to the configured S3 endpoint', async () => {
    http.serve('lab-slides/cohort/kidney.tif', { file: QUARTER });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: http.url,
    });
    const seen: string[] = [];
    const logRequests = http as unknown as { handle: (req: any, res: any) => void };
    const handle = logRequests.handle.bind(http);
    logRequests.handle = (req, res) => {
      seen.push(req.url);
      handle(req, res);
    };
    try {
      await withCatalog(['s3://lab-slides/cohort/'], async (catalog) => {
        const slide = await catalog.open('s3://lab-slides/cohort/kidney.tif');
        expect(slide.metadata.width).toBe(1600);
        expect((await rejection(catalog.open('s3://other-bucket/kidney.tif'))).code).toBe('INVALID_ARGUMENT');
      });
      const query = new URL(
        seen.find((u) => u.startsWith('/lab-slides/cohort/kidney.tif'))!,
        http.url,
      ).searchParams;
      expect(query.get('X-Amz-Credential')).toMatch(/^AKIDTEST\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
      expect(query.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      logRequests.handle = handle;
      process.env = saved;
    }
  });
});
