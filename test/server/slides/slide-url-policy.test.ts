/**
 * The slide URL allowlist against a back end that decodes its paths: a real HTTP server with Range support on
 * loopback that percent-decodes each request path (%2F and %5C included) and resolves dot segments before it picks
 * a file, as some file servers and object stores do. Encoded separators and dots cannot walk such a server out of
 * the allowed prefix: the policy normalises the path as a URL parser would, refuses encoded separators, and only
 * then compares it with the prefix. The back end is never asked for a path outside the prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type http from 'node:http';
import path from 'node:path';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { SlideCatalog } from '../../../server/src/slides/slide-catalog.js';
import { SlideUrlPolicy } from '../../../server/src/slides/slide-url-policy.js';
import { RangeServer } from '../../../server/src/bench/range-file-server.js';
import { EVAL_REGION } from '../../helpers/paths.js';

const QUARTER = path.join(EVAL_REGION, 'kidney-region-quarter.tif');

let backEnd: RangeServer;
/** Every path the back end was asked for, as it decoded it. */
const decodedPaths: string[] = [];

beforeAll(async () => {
  backEnd = await RangeServer.start();
  backEnd.serve('slides/kidney.tif', { file: QUARTER });
  backEnd.serve('secret/kidney.tif', { file: QUARTER });
  const server = backEnd as unknown as { handle: (req: http.IncomingMessage, res: http.ServerResponse) => void };
  const handle = server.handle.bind(backEnd);
  server.handle = (req, res) => {
    const [rawPath, query] = (req.url ?? '/').split('?', 2);
    const decoded = path.posix.normalize(decodeURIComponent(rawPath).replace(/\\/g, '/'));
    decodedPaths.push(decoded);
    req.url = query === undefined ? decoded : `${decoded}?${query}`;
    handle(req, res);
  };
});
afterAll(async () => {
  await backEnd?.close();
});

async function open(id: string): Promise<{ width?: number; error?: GlomsegError }> {
  const catalog = await SlideCatalog.create({ folders: [], urlPrefixes: [`${backEnd.url}/slides/`] });
  try {
    const slide = await catalog.open(id);
    return { width: slide.metadata.width };
  } catch (error) {
    expect(error, id).toBeInstanceOf(GlomsegError);
    return { error: error as GlomsegError };
  } finally {
    await catalog.close();
  }
}

describe('slide URL allowlist against a decoding back end', () => {
  it('refuses encoded separators and dots that would leave the prefix, without asking the back end', async () => {
    const base = backEnd.url;
    const outside = [
      `${base}/slides/..%2fsecret/kidney.tif`,
      `${base}/slides/..%2Fsecret/kidney.tif`,
      `${base}/slides/%2e%2e%2fsecret/kidney.tif`,
      `${base}/slides/.%2E%2Fsecret/kidney.tif`,
      `${base}/slides/sub/..%2f..%2fsecret/kidney.tif`,
      `${base}/slides/..%5csecret/kidney.tif`,
      `${base}/slides/%2e%2e/secret/kidney.tif`,
      `${base}/slides/sub/%2E%2E/%2e%2e/secret/kidney.tif`,
      `${base}/slides\\..\\secret/kidney.tif`,
    ];
    const before = decodedPaths.length;
    for (const id of outside) {
      const { error, width } = await open(id);
      expect(width, `${id} was read`).toBeUndefined();
      expect(error!.code, id).toBe('INVALID_ARGUMENT');
      expect(error!.message, id).toMatch(/encodes '\/' or '\\'|not under an allowed prefix/);
    }
    expect(decodedPaths.slice(before)).toEqual([]);
    expect((await open(`${base}/slides/..%2fsecret/kidney.tif`)).error!.message).toMatch(
      /slide URL .*\/slides\/\.\.%2[fF]secret\/kidney\.tif.* encodes '\/' or '\\' in its path \(%2F, %5C\)/,
    );
  });

  it('reads a URL whose normalised path is under the prefix, and asks only for that normalised path', async () => {
    const base = backEnd.url;
    const before = decodedPaths.length;
    for (const id of [
      `${base}/slides/kidney.tif`,
      `${base}/slides/%6Bidney.tif`,
      `${base}/%73lides/kidney.tif`,
      `${base}/slides/sub/%2e%2e/kidney.tif`,
    ]) {
      const { width, error } = await open(id);
      expect(error?.message, id).toBeUndefined();
      expect(width, id).toBe(1600);
    }
    const asked = decodedPaths.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((p) => p !== '/slides/kidney.tif')).toEqual([]);
  });

  it('normalises before comparing: the URL to fetch, and s3:// keys and prefixes alike', () => {
    const policy = new SlideUrlPolicy(['https://store.example/slides/', 's3://lab/cohort/']);
    expect(policy.check('https://store.example/slides/a/%2e%2e/%6B%69dney.tif?v=%2f').href).toBe(
      'https://store.example/slides/kidney.tif?v=%2f',
    );
    expect(policy.check('https://store.example/slides/caf%c3%a9.tif').pathname).toBe('/slides/caf%C3%A9.tif');
    expect(policy.check('s3://lab/cohort/x/%2E%2E/kidney.tif').href).toBe('s3://lab/cohort/kidney.tif');
    for (const id of [
      's3://lab/cohort/..%2fother/kidney.tif',
      's3://lab/cohort/%2e%2e%2fother/kidney.tif',
      's3://lab/cohort/..\\other/kidney.tif',
      'https://store.example/slides/%zz.tif',
    ]) {
      expect(() => policy.check(id), id).toThrow(GlomsegError);
    }
    expect(() => policy.check('s3://lab/cohort/%2e%2e/other/kidney.tif')).toThrow(/not under an allowed prefix/);
    expect(() => new SlideUrlPolicy(['https://store.example/a%2Fb/'])).toThrow(
      /slide URL prefix .* encodes '\/' or '\\'/,
    );
    // A prefix is normalised too: an encoded unreserved character in it matches its plain form.
    expect(
      new SlideUrlPolicy(['https://store.example/%73lides/']).check('https://store.example/slides/k.tif').pathname,
    ).toBe('/slides/k.tif');
  });
});
