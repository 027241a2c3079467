/**
 * The API contract as other services build on it: proto/ passes `buf lint`, is not broken against the released
 * image (api/releases/, written by `npm run api:release`), and api/gen/ is what `npm run gen` makes of it now.
 * Each check is also shown to fail on a proto that breaks it.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const BUF = path.join(REPO_ROOT, 'node_modules', '.bin', 'buf');
const PROTO = 'glomseg/v1/glomseg.proto';

/** buf's exit code and output, in `cwd`. */
async function buf(args: string[], cwd = REPO_ROOT): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(BUF, args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The newest released image: api/releases/v<semver>.binpb with the highest version. */
async function newestRelease(): Promise<string> {
  const versions = (await readdir(path.join(REPO_ROOT, 'api/releases'))).filter((f) =>
    /^v\d+\.\d+\.\d+\.binpb$/.test(f),
  );
  const key = (f: string) => f.slice(1, -'.binpb'.length).split('.').map(Number);
  versions.sort((a, b) => key(a).reduce((d, v, i) => d || v - key(b)[i], 0));
  if (versions.length === 0) throw new Error('no released API image in api/releases (npm run api:release)');
  return path.join(REPO_ROOT, 'api/releases', versions.at(-1)!);
}

let scratch: string;
/** A copy of the module (buf.yaml and proto/) whose proto is `edit`ed. */
async function editedModule(edit: (proto: string) => string): Promise<string> {
  const dir = await mkdtemp(path.join(scratch, 'module-'));
  await cp(path.join(REPO_ROOT, 'proto'), path.join(dir, 'proto'), { recursive: true });
  await cp(path.join(REPO_ROOT, 'buf.yaml'), path.join(dir, 'buf.yaml'));
  const file = path.join(dir, 'proto', PROTO);
  const before = await readFile(file, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  await writeFile(file, after);
  return dir;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'glomseg-proto-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('the glomseg.v1 contract', () => {
  it('passes buf lint, and lint fails on a field that breaks its rules', async () => {
    const lint = await buf(['lint']);
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);
    const camel = await editedModule((proto) => proto.replace('int32 polygon_count = 10;', 'int32 polygonCount = 10;'));
    const bad = await buf(['lint'], camel);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/polygonCount.*lower_snake_case/);
  });

  it('is not broken against the released image, and a removed or renumbered field is caught', async () => {
    const against = await newestRelease();
    const breaking = await buf(['breaking', '--against', against]);
    expect(breaking.output).toBe('');
    expect(breaking.code).toBe(0);
    const removed = await editedModule((proto) => proto.replace(/\n\s*double elapsed_ms = 8;[^\n]*/, ''));
    // A number no field of the file uses, so the edit is a renumbering and not a clash that fails to compile.
    const renumbered = await editedModule((proto) =>
      proto.replace('int32 polygon_count = 10;', 'int32 polygon_count = 4242;'),
    );
    for (const dir of [removed, renumbered]) {
      const result = await buf(['breaking', '--against', against], dir);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/ScoreResult/);
    }
  });

  it('api/gen is what npm run gen makes of proto/ now', async () => {
    const out = await mkdtemp(path.join(scratch, 'gen-'));
    const generated = await buf(['generate', '--output', out]);
    expect(generated.code, generated.output).toBe(0);
    const { code, output } = await run('diff', ['-r', path.join(out, 'api/gen'), path.join(REPO_ROOT, 'api/gen')]).then(
      (r) => ({ code: 0, output: r.stdout }),
      (e) => ({ code: e.code as number, output: String(e.stdout) }),
    );
    expect(output, 'api/gen is stale: run npm run gen').toBe('');
    expect(code).toBe(0);
  });
});
