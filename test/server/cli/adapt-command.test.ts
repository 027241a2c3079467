/**
 * `glomseg adapt` and `glomseg models` as a user runs them, against a `glomseg serve` process: the adaptation's
 * progress and figures, the new version listed, made the default and rolled back to its parent in one command.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../../../server/src/bench/server-process.js';
import { glomseg } from '../../helpers/cli.js';
import { glomsegClient } from '../../helpers/grpc.js';
import {
  SLIDES,
  adaptScratch,
  replayManifest,
  saveReviewedViews,
  startServer,
  type AdaptScratch,
} from '../adaptation/adapt-fixture.js';

let scratch: AdaptScratch;
let server: ServerProcess;

beforeAll(async () => {
  scratch = await adaptScratch();
  // With the parent's training tiles replayed: on two views the pretrained parent, already good on them, would
  // otherwise drift to finding nothing within these few steps (and the server would rightly refuse the version).
  server = await startServer(scratch, ['--adapt', 'open', '--adapt-replay', await replayManifest(scratch)]);
  const client = glomsegClient(server.address);
  await saveReviewedViews(client);
  client.close();
}, 240_000);

afterAll(async () => {
  await server?.close();
  await rm(scratch.root, { recursive: true, force: true });
});

describe('glomseg adapt and glomseg models', () => {
  it('adapts with progress, lists the version, makes it the default and rolls back', async () => {
    const at = ['--server', server.address];
    const adapted = await glomseg([
      'adapt',
      ...at,
      '--slides',
      ...SLIDES,
      '--steps',
      '20', // enough for the pretrained parent to gain on the held-out view (a version that did worse is refused)
      '--mpp',
      '0.515',
      '--progress',
      'lines',
    ]);
    expect(adapted.code, adapted.stderr).toBe(0);
    expect(adapted.stderr).toMatch(/glomseg: training step 1\/20 loss \d+\.\d{4}, ETA/);
    expect(adapted.stderr).toMatch(/scoring the held-out regions \(after\)/);
    expect(adapted.stdout).toMatch(/new model version glomseg-unet-v2 \(from glomseg-unet\)/);
    expect(adapted.stdout).toMatch(/held out 1 regions: before mean image Dice \d\.\d{3}, F1 \d\.\d{3}; after/);

    const listed = await glomseg(['models', 'list', ...at]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^\* glomseg-unet /m);
    expect(listed.stdout).toMatch(/^ {2}glomseg-unet-v2 .*from glomseg-unet {2}held-out Dice \d\.\d{3} -> \d\.\d{3}/m);

    const chosen = await glomseg(['models', 'default', 'glomseg-unet-v2', ...at]);
    expect(chosen.stdout).toMatch(/glomseg-unet-v2 is the default model now \(was glomseg-unet\)/);
    expect((await glomseg(['models', 'list', ...at])).stdout).toMatch(/^\* glomseg-unet-v2 /m);

    const rolledBack = await glomseg(['models', 'rollback', ...at]);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(rolledBack.stdout).toMatch(/rolled back: glomseg-unet is the default model now \(was glomseg-unet-v2\)/);
    const again = await glomseg(['models', 'rollback', ...at]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no adapted version: name the model to go back to/);
  }, 600_000);

  it('says why an adaptation cannot start, in words, with exit code 1', async () => {
    const missing = await glomseg(['adapt', '--server', server.address, '--slides', 'no-such-slide.png']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND: .*no-such-slide\.png/);
    const unreviewed = await glomseg([
      'adapt',
      '--server',
      server.address,
      '--slides',
      SLIDES[0]!,
      '--held-out',
      '0.9',
    ]);
    expect(unreviewed.code).toBe(1);
    expect(unreviewed.stderr).toMatch(/INVALID_ARGUMENT: held_out_fraction 0\.9 is outside 0\.05\.\.0\.5/);
  }, 120_000);
});
