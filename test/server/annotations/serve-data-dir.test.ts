/**
 * `serve --data-dir`: a folder given that cannot hold annotations stops the start with the reason; without the
 * flag, a default folder that cannot (a read-only root in a locked-down container) leaves the server serving,
 * saying annotations are not kept, and SaveAnnotations answers FAILED_PRECONDITION; the default folder when it can.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliProcess, glomseg } from '../../helpers/cli.js';
import { glomsegClient, statusOf } from '../../helpers/grpc.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';

let dir: string;
const SERVE = ['serve', '--port', '0', '--no-http', '--slides', EVAL_REGION, '--models', MODELS, '--device', 'cpu'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-data-dir-'));
  await writeFile(path.join(dir, 'a-file'), '');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serveUntilListening(env: NodeJS.ProcessEnv) {
  const server = CliProcess.start(SERVE, env);
  await server.until((p) => /gRPC listening on \S+:\d+/.test(p.stderr));
  const address = /gRPC listening on (\S+:\d+)/.exec(server.stderr)![1];
  return { server, address };
}

describe('serve --data-dir', () => {
  it('refuses to start on a given folder that cannot hold annotations', async () => {
    const result = await glomseg([...SERVE, '--data-dir', path.join(dir, 'a-file', 'data')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the data folder .*a-file\/data cannot hold annotations/);
  }, 120_000);

  it('serves without a store where the default folder cannot hold one, and says so', async () => {
    const { server, address } = await serveUntilListening({ XDG_DATA_HOME: path.join(dir, 'a-file') });
    const client = glomsegClient(address);
    try {
      expect(server.stderr).toMatch(/cannot hold annotations: .*; annotations are not kept \(give serve --data-dir/);
      const status = await statusOf(client.listAnnotations({ slideId: 'kidney-region.tif' }));
      expect(status).toMatchObject({ code: 9 });
    } finally {
      client.close();
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }, 120_000);

  it('keeps annotations in $XDG_DATA_HOME/glomseg by default', async () => {
    const { server, address } = await serveUntilListening({ XDG_DATA_HOME: path.join(dir, 'xdg') });
    const client = glomsegClient(address);
    try {
      expect(await client.listAnnotations({ slideId: 'kidney-region.tif' })).toMatchObject({ versions: [] });
      expect(await readdir(path.join(dir, 'xdg', 'glomseg'))).toEqual(['annotations']);
    } finally {
      client.close();
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }, 120_000);
});
