/**
 * deploy/Containerfile for real, without a container engine: its build stage carried out in a temporary folder
 * (COPY lines from the build context less .containerignore, RUN lines run there offline; see container-build.ts),
 * then the server started from that folder exactly as the final stage's ENTRYPOINT and CMD say, as its USER (uid
 * 1000, when this runs as root), with its ENV and no other: it must answer the image's own HEALTHCHECK command,
 * serve the viewer, score a slide over gRPC, and drain on SIGTERM (the running stream finishes) and exit 0.
 * Ports are made free ones and /slides a folder holding one slide; nothing else in the command is changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ScoreSlideEvent } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { buildStageInto, listFiles, removeContext, type BuiltContext } from './container-build.js';
import { EVAL_REGION, REPO_ROOT } from '../helpers/paths.js';
import { glomsegClient, statusOf } from '../helpers/grpc.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const CONTAINERFILE = path.join(REPO_ROOT, 'deploy', 'Containerfile');
const SLIDE = 'kidney-region-quarter.tif';
/** The quarter-scale copy of the eval region (about 0.5 um/px at full scale) records no pixel size. */
const SLIDE_MPP = 2;
const AS_ROOT = process.getuid?.() === 0;

let scratch: string;
let built: BuiltContext;
let slides: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'glomseg-image-'));
  // The image's user must be able to reach /app, as in the image.
  await chmod(scratch, 0o755);
  slides = path.join(scratch, 'slides');
  built = await buildStageInto({
    containerfile: CONTAINERFILE,
    contextDir: REPO_ROOT,
    outDir: path.join(scratch, 'app'),
    checkoutNodeModules: path.join(REPO_ROOT, 'node_modules'),
    buildArgs: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  await run('mkdir', ['-p', slides]);
  await copyFile(path.join(EVAL_REGION, SLIDE), path.join(slides, SLIDE));
}, 240_000);

afterAll(async () => {
  if (scratch) await removeContext(scratch);
});

describe('deploy/Containerfile, carried out step by step', () => {
  it('copies what the server needs: every workspace installed, the viewer bundle built, no dev dependencies left', async () => {
    const workspaces: string[] = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')).workspaces;
    for (const workspace of workspaces) {
      const name = JSON.parse(await readFile(path.join(REPO_ROOT, workspace, 'package.json'), 'utf8')).name;
      // npm ci links a workspace only if its package.json was copied before it ran.
      expect(
        built.npmCiPlan.some((line) => line.startsWith(`add ${name} `)),
        `npm ci would not install ${name}`,
      ).toBe(true);
      expect((await stat(path.join(built.appDir, workspace, 'package.json'))).isFile()).toBe(true);
    }
    const app = built.appDir;
    expect((await stat(path.join(app, 'plugin/dist/glomseg-plugin.js'))).size).toBeGreaterThan(100_000);
    expect((await stat(path.join(app, 'models'))).isDirectory()).toBe(true);
    // The licence goes with every copy (MIT).
    expect(await readFile(path.join(app, 'LICENSE'), 'utf8')).toBe(
      await readFile(path.join(REPO_ROOT, 'LICENSE'), 'utf8'),
    );
    // Runtime packages stay; dev-only ones are pruned.
    for (const kept of ['tsx', 'esbuild', 'onnxruntime-node', '@grpc/grpc-js'])
      await stat(path.join(app, 'node_modules', kept));
    for (const pruned of ['vitest', 'typescript', 'playwright-core', 'kubernetes-models']) {
      await expect(stat(path.join(app, 'node_modules', pruned)), `${pruned} is a dev dependency`).rejects.toThrow();
    }
    // Nothing the ignore file excludes, and nothing the COPY lines do not name.
    const files = await listFiles(app);
    expect(
      files.filter(
        (f) => f.startsWith('.git/') || f.startsWith('test/') || f.startsWith('training/') || f.endsWith('.log'),
      ),
    ).toEqual([]);
    expect(built.runtime.user.uid).not.toBe(0);
  });

  it('starts as ENTRYPOINT and CMD say, as USER, answers its HEALTHCHECK, scores a slide and drains on SIGTERM', async () => {
    const { runtime, appDir } = built;
    // /app is the build folder; the exposed ports become free ones; /slides our folder of one slide.
    const ports = new Set(runtime.exposed.map(String));
    const rewrite = (arg: string) =>
      ports.has(arg)
        ? '0'
        : arg === '/slides'
          ? slides
          : arg.startsWith(`${runtime.workdir}/`)
            ? path.join(appDir, arg.slice(runtime.workdir.length + 1))
            : arg;
    const command = [...runtime.entrypoint, ...runtime.cmd.map(rewrite)];
    expect(command).toContain(slides);
    const identity = AS_ROOT ? { uid: runtime.user.uid, gid: runtime.user.gid } : {};
    // A temporary folder the server's user cannot write, as on a read-only root filesystem: nothing in the image
    // may depend on writing there.
    const readOnlyTmp = path.join(scratch, 'read-only-tmp');
    await mkdir(readOnlyTmp);
    await chmod(readOnlyTmp, 0o555);
    const env = { PATH: process.env.PATH!, HOME: scratch, TMPDIR: readOnlyTmp, ...runtime.env };
    const log: string[] = [];
    const child: ChildProcess = spawn(command[0], command.slice(1), {
      cwd: appDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...identity,
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(...chunk.split('\n').filter(Boolean)));
    try {
      await until(() => log.some((l) => /model \S+ ready/.test(l)) || child.exitCode !== null, 120_000, 100);
      expect(child.exitCode, log.join('\n')).toBeNull();
      const grpcPort = Number(/gRPC listening on \S+:(\d+)/.exec(log.join('\n'))![1]);
      const httpPort = Number(/gRPC-Web listening on https?:\/\/\S+:(\d+)/.exec(log.join('\n'))![1]);
      expect(log.join('\n')).toMatch(/gRPC listening on 0\.0\.0\.0:/);
      if (AS_ROOT)
        expect(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]).toBe(
          String(runtime.user.uid),
        );

      // The image's own HEALTHCHECK command, run in the image's folder as its user.
      const check = runtime.healthcheck.map((arg) =>
        arg.replace(/:\d+$/, (p) => (ports.has(p.slice(1)) ? `:${grpcPort}` : p)),
      );
      expect(check.join(' ')).toContain(`127.0.0.1:${grpcPort}`);
      const health = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const probe = spawn(check[0], check.slice(1), {
          cwd: appDir,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          ...identity,
        });
        let out = '';
        probe.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
        probe.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
        probe.once('exit', (code) => resolve({ code, out }));
      });
      expect(health, health.out).toEqual({ code: 0, out: 'SERVING\n' });

      // The viewer page and its bundle, as built in the image (a stale bundle would be rebuilt: /app is read-only to the user).
      const page = await fetch(`http://127.0.0.1:${httpPort}/`);
      expect(page.status).toBe(200);
      const bundle = await fetch(`http://127.0.0.1:${httpPort}/plugin/glomseg-plugin.js`);
      expect(bundle.status).toBe(200);
      expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);

      const client = glomsegClient(`127.0.0.1:${grpcPort}`);
      const messages: ScoreSlideEvent[] = [];
      const ended = statusOf(
        (async function* () {
          for await (const message of client.scoreSlide({ slideId: SLIDE, mppOverride: SLIDE_MPP }))
            yield messages.push(message);
        })(),
      );
      // SIGTERM while the stream runs, two thirds through (the rest must finish within the CMD's grace period on a
      // busy machine too), then the process exits 0.
      const progress = (m: ScoreSlideEvent) => (m.event.case === 'progress' ? m.event.value : undefined);
      await until(
        () => messages.some((m) => (progress(m)?.tilesDone ?? 0) * 3 >= (progress(m)?.tilesTotal ?? 1) * 2),
        120_000,
      );
      expect(messages.some((m) => m.event.case === 'result')).toBe(false);
      child.kill('SIGTERM');
      expect(await ended).toEqual({ code: 0, details: '' });
      const summary = messages.at(-1)!.event;
      expect(summary.case === 'result' && summary.value.polygonCount).toBeGreaterThan(10);
      expect(await exited).toBe(0);
      expect(log.join('\n')).toMatch(/SIGTERM: draining/);
      expect(log.at(-1)).toMatch(/stopped/);
      client.close();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
