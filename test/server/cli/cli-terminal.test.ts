/**
 * `glomseg` in a person's terminal and in a script: Ctrl-C gives the terminal back, machine-readable stdout stays
 * clean through the documented npm command, failures are said on stderr, and a busy port is reported before the
 * model loads. Separate processes, a real pseudo-terminal, a real occupied port.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EVAL_REGION, REPO_ROOT } from '../../helpers/paths.js';

const CLI = path.join(REPO_ROOT, 'server', 'src', 'cli', 'main.ts');
const REGION = path.join(EVAL_REGION, 'kidney-region.tif');
const QUARTER = path.join(EVAL_REGION, 'kidney-region-quarter.tif');

async function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd: REPO_ROOT,
      timeout: 240_000,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error: any) {
    if (typeof error?.code !== 'number') throw error;
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

describe('glomseg in a terminal', () => {
  it('restores the cursor and line wrap on Ctrl-C and says it was interrupted', async () => {
    const { stdout } = await run('python3', [
      path.join(REPO_ROOT, 'test/fixtures/cli/interrupt-in-pty.py'),
      'tiles',
      process.execPath,
      '--import',
      'tsx',
      CLI,
      'score',
      REGION,
      '--mpp',
      '0.25',
    ]);
    expect(stdout).toContain('sent=True');
    const afterBars = stdout.slice(stdout.indexOf('\x1b[?25l'));
    expect(afterBars).toContain('\x1b[?25h'); // cursor shown again
    expect(afterBars).toContain('\x1b[?7h'); // line wrap on again
    expect(stdout).toMatch(/glomseg: interrupted \(Ctrl-C\) after 0 of 1 slide; nothing was written/);
    expect(stdout).not.toMatch(/ETA NF|ETA NaN|ETA Infinity/); // a dash until a tile is done
    expect(stdout).toContain('[exit 130');
  }, 240_000);
});

describe('glomseg in a script', () => {
  it('prints only JSON on stdout through the documented npm command', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    // The README documents the silent form for machine-readable output.
    expect(readme).toContain('npm run -s glomseg -- score');
    const { code, stdout } = await run('npm', ['run', '-s', 'glomseg', '--', 'info', QUARTER]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).width).toBe(1600);
  }, 240_000);

  it('says on stderr that an annotations file cannot be read', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-cli-'));
    try {
      const broken = path.join(dir, 'kidney-region-quarter.geojson');
      await writeFile(broken, '{"type": "FeatureCollection", "features": [');
      const { code, stdout, stderr } = await run(process.execPath, [
        '--import',
        'tsx',
        CLI,
        'score',
        QUARTER,
        '--mpp',
        '2',
        '-a',
        broken,
        '--json',
      ]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/glomseg: kidney-region-quarter: INVALID_ARGUMENT: the annotations are not valid JSON/);
      expect(
        stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line))
          .find((e) => e.event === 'error'),
      ).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('reports a gRPC port in use before loading the model, in words that say what to do', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const { code, stderr } = await run(process.execPath, [
        '--import',
        'tsx',
        CLI,
        'serve',
        '--port',
        String(port),
        '--no-http',
      ]);
      expect(code).toBe(1);
      expect(stderr).toContain(`the gRPC port ${port} on 127.0.0.1 is already in use`);
      expect(stderr).toContain('--port');
      expect(stderr).not.toMatch(/model .* ready/);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  }, 60_000);
});
