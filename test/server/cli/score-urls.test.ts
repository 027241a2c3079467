/** `glomseg score URL` without --server: the in-process server reads exactly the URLs given, and nothing else. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { RangeServer } from '../../../server/src/bench/range-file-server.js';
import { events, glomseg } from '../../helpers/cli.js';
import { EVAL_REGION } from '../../helpers/paths.js';

let http: RangeServer;
beforeAll(async () => {
  http = await RangeServer.start();
});
afterAll(async () => {
  await http?.close();
});

describe('glomseg score URL', () => {
  it('scores a slide by URL with the same result as the file', async () => {
    const file = path.join(EVAL_REGION, 'kidney-region-quarter.tif');
    const url = http.serve('slides/kidney-region-quarter.tif', { file });
    const byUrl = await glomseg(['score', url, '--mpp', '2', '--device', 'cpu', '--json']);
    expect(byUrl.code, byUrl.stderr).toBe(0);
    const byFile = await glomseg(['score', file, '--mpp', '2', '--device', 'cpu', '--json']);
    const [a] = events(byUrl.stdout).filter((e) => e.event === 'result');
    const [b] = events(byFile.stdout).filter((e) => e.event === 'result');
    expect(a.slide).toBe(url);
    expect(a.glomeruli).toBeGreaterThan(0);
    expect(a.glomeruli).toBe(b.glomeruli);
    expect(http.bytesSent).toBeGreaterThan(0);
    const info = await glomseg(['info', url]);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ width: 1600, height: 1200 });
  }, 120_000);
});
