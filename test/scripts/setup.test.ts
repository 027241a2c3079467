/**
 * scripts/setup.sh is the only thing a fresh machine runs before the tests: its lists must cover what the project
 * imports and starts, or CI stays green on a machine where someone installed the missing piece by hand.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const SETUP = path.join(REPO_ROOT, 'scripts', 'setup.sh');

/** A bash array of setup.sh, as bash itself reads it (comments and line breaks included). */
async function setupList(name: string): Promise<string[]> {
  const text = await readFile(SETUP, 'utf8');
  const start = text.indexOf(`\n${name}=(`) + 1;
  expect(start, `setup.sh defines ${name}`).toBeGreaterThan(0);
  const firstLineEnd = text.indexOf('\n', start);
  // One line `name=(a b)`, or several lines closed by a line that is just `)`.
  const end = text.slice(start, firstLineEnd).includes(')') ? firstLineEnd : text.indexOf('\n)', start) + 2;
  const { stdout } = await run('bash', ['-c', `${text.slice(start, end)}\nprintf '%s\\n' "\${${name}[@]}"`]);
  return stdout.split('\n').filter(Boolean);
}

async function filesUnder(folder: string, pattern: RegExp): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && pattern.test(e.name)).map((e) => path.join(e.parentPath, e.name));
}

describe('scripts/setup.sh', () => {
  it('makes every Python import of the repository available: each is the standard library, a sibling file or listed', async () => {
    const scripts = [
      ...(await filesUnder(path.join(REPO_ROOT, 'training'), /\.py$/)),
      ...(await filesUnder(path.join(REPO_ROOT, 'test'), /\.py$/)),
    ];
    const { stdout } = await run('/usr/bin/python3', [
      '-c',
      'import sys; print("\\n".join(sorted(sys.stdlib_module_names)))',
    ]);
    const stdlib = new Set(stdout.split('\n'));
    const listed = await setupList('python_modules');
    const imported = new Map<string, string>();
    let thirdParty = 0;
    for (const file of scripts) {
      const siblings = new Set(
        scripts.filter((f) => path.dirname(f) === path.dirname(file)).map((f) => path.basename(f, '.py')),
      );
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        const match =
          /^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w.,\s]*?)(?:\s+as\s+\w+)?\s*(?:#.*)?$)/.exec(
            line,
          );
        if (!match) continue;
        const names = match[1] ? [match[1]] : match[2].split(',').map((n) => n.trim().split(/\s/)[0]);
        for (const name of names) {
          const top = name.split('.')[0];
          // A listed module covers its submodules (google.protobuf covers google.protobuf.json_format).
          if (!top || stdlib.has(top) || siblings.has(top)) continue;
          thirdParty++;
          if (!listed.some((m) => name === m || name.startsWith(`${m}.`)))
            imported.set(name, path.relative(REPO_ROOT, file));
        }
      }
    }
    expect(thirdParty, 'the scan finds third-party imports to check').toBeGreaterThan(5);
    const unlisted = [...imported].map(([name, file]) => `${name} (${file})`);
    expect(unlisted, 'add the Debian package to packages=(...) and the module to python_modules=(...)').toEqual([]);
  });

  it('lists every program the tests and scripts start by absolute path', async () => {
    const files = [
      ...(await filesUnder(path.join(REPO_ROOT, 'test'), /\.ts$/)),
      ...(await filesUnder(path.join(REPO_ROOT, 'server', 'src'), /\.ts$/)),
      ...(await filesUnder(path.join(REPO_ROOT, 'training'), /\.(sh|mjs)$/)),
      ...(await filesUnder(path.join(REPO_ROOT, 'scripts'), /\.(sh|mjs)$/)),
    ].filter((f) => f !== path.join(REPO_ROOT, 'test', 'scripts', 'setup.test.ts'));
    const started = new Set<string>();
    for (const file of files) {
      const text = (await readFile(file, 'utf8')).replace(/^#!.*$/m, ''); // a shebang's /usr/bin/env is not ours to install
      for (const [program] of text.matchAll(/\/usr\/bin\/[\w.+-]+/g)) started.add(program);
    }
    expect(started.has('/usr/bin/python3') && started.has('/usr/bin/chromium')).toBe(true);
    const listed = new Set(await setupList('programs'));
    expect([...started].filter((p) => !listed.has(p))).toEqual([]);
  });

  it('installs a package for each group of needs: Chromium, a font, Python with torch, numpy, PIL, onnx and grpcio', async () => {
    const packages = await setupList('packages');
    expect(packages).toEqual(
      expect.arrayContaining([
        'chromium',
        'python3',
        'python3-torch',
        'python3-numpy',
        'python3-pil',
        'python3-onnx',
        'python3-grpcio',
      ]),
    );
    expect(packages.some((p) => p.startsWith('fonts-'))).toBe(true);
  });
});
