/**
 * SIGKILL during a stream of saves loses no acknowledged save and shows nothing half-written: a real `glomseg
 * serve` process takes large saves (30,000 vertices, about 0.6 MB of JSON each) one after another from a real
 * gRPC client and is killed at a different moment in each round, with a save in flight. Started again on the same
 * data folder, it lists every version it acknowledged, each read back equal to what was sent, at most the one in
 * flight besides, and every file in the slide's folder is a whole version.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { saveAnnotationsRequestToProto, slideAnnotationsFromProto } from '@glomseg/api/client/annotations-proto.js';
import type { AnnotatedRegion } from '@glomseg/shared/reviewed-annotations.js';
import { glomsegClient } from '../../helpers/grpc.js';
import { CLI } from '../../helpers/cli.js';
import { EVAL_REGION, MODELS, REPO_ROOT } from '../../helpers/paths.js';

const SLIDE = 'kidney-region.tif';
let dir: string;
const running: ChildProcess[] = [];

afterAll(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Version n's regions: 10 regions of 30 glomeruli of 100 points, all moved by n so each version differs. */
function regionsOf(n: number): AnnotatedRegion[] {
  return Array.from({ length: 10 }, (_, r) => ({
    id: `r${r}`,
    outline: [
      [r * 600, 0],
      [r * 600 + 600, 0],
      [r * 600 + 600, 4000],
      [r * 600, 4000],
    ],
    glomeruli: Array.from({ length: 30 }, (_, g) => ({
      exterior: Array.from({ length: 100 }, (_, k): [number, number] => [
        r * 600 + 300 + 50 * Math.cos((2 * Math.PI * k) / 100) + n / 7,
        g * 130 + 80 + 50 * Math.sin((2 * Math.PI * k) / 100),
      ]),
      holes: [],
      source: (['predicted', 'edited', 'drawn'] as const)[(g + n) % 3],
    })),
  }));
}

async function startServer(): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, 'serve', '--port', '0', '--no-http', '--slides', EVAL_REGION, '--models', MODELS].concat([
      '--device',
      'cpu',
      '--data-dir',
      dir,
    ]),
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.push(child);
  let log = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${log}`)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
      const match = /gRPC listening on (\S+:\d+)/.exec(log);
      if (match) resolve(match[1]);
    });
  });
  return { child, address };
}

describe('a server killed with SIGKILL during saves', () => {
  it('keeps every acknowledged save whole and shows nothing half-written', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-sigkill-'));
    const acknowledged = new Set<number>();
    let inFlight: number[] = [];
    let latest = 0;
    let verified = 0;
    // The kill comes at a different moment after the last save was sent in each round.
    for (const delayMs of [0, 5, 25]) {
      const { child, address } = await startServer();
      const client = glomsegClient(address);
      const exited = once(child, 'exit');
      let killed = false;
      const saves = (async () => {
        while (!killed) {
          const version = latest + 1;
          inFlight.push(version);
          const request = saveAnnotationsRequestToProto({
            slideId: SLIDE,
            baseVersion: latest,
            note: `save ${version}`,
            regions: regionsOf(version),
          });
          const reply = await client.saveAnnotations(request).catch(() => undefined);
          if (!reply) return;
          expect(reply.version).toBe(version);
          acknowledged.add(version);
          latest = version;
          inFlight = inFlight.filter((v) => v !== version);
        }
      })();
      // A few saves land, then the kill comes while the next one is on its way.
      while (acknowledged.size < latestTarget(delayMs)) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, delayMs));
      killed = true;
      child.kill('SIGKILL');
      await exited;
      await saves;
      client.close();

      const again = await startServer();
      const reader = glomsegClient(again.address);
      const { versions } = await reader.listAnnotations({ slideId: SLIDE });
      const stored = versions.map((v) => v.version).sort((a, b) => a - b);
      for (const version of acknowledged) expect(stored).toContain(version);
      for (const version of stored) expect(acknowledged.has(version) || inFlight.includes(version)).toBe(true);
      // Numbers run without a gap, and the next round edits from the true latest (versions read in earlier rounds
      // are files that never change, so each is read back once).
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      latest = stored.at(-1) ?? 0;
      for (const version of stored) acknowledged.add(version);
      inFlight = [];
      for (const version of stored.filter((v) => v > verified)) {
        const got = slideAnnotationsFromProto(await reader.getAnnotations({ slideId: SLIDE, version }));
        expect(got.version.note).toBe(`save ${version}`);
        expect(got.regions).toEqual(regionsOf(version));
      }
      verified = latest;
      reader.close();
      again.child.kill('SIGKILL');
      await once(again.child, 'exit');
    }
    // Every file left is a whole version: no temporary file of a killed process, nothing cut short.
    const [slideFolder] = await readdir(path.join(dir, 'annotations'));
    const files = await readdir(path.join(dir, 'annotations', slideFolder));
    expect(files.length).toBe(latest);
    for (const file of files) {
      expect(file).toMatch(/^v\d{8}\.json$/);
      JSON.parse(await readFile(path.join(dir, 'annotations', slideFolder, file), 'utf8'));
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(6);
  }, 300_000);
});

/** How many saves in all should be acknowledged before the kill of a round (two more each round). */
function latestTarget(delayMs: number): number {
  return [0, 5, 25].indexOf(delayMs) * 2 + 2;
}
