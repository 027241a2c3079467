import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../../server/src/slides/readers/index.js';
import { resolveSlideId } from '../../../server/src/slides/slide-id-path.js';
import type { SlideFolder } from '../../../server/src/slides/slide-folders.js';
import { rejection } from '../../helpers/rejection.js';

let tmp: string;
let folder: SlideFolder;
let outside: string;
beforeAll(async () => {
  tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'glomseg-slide-id-')));
  const root = path.join(tmp, 'slides');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await writeFile(path.join(root, 'sub', 'a.tif'), 'not read here');
  outside = path.join(tmp, 'outside.tif');
  await writeFile(outside, 'outside the folder');
  await symlink(outside, path.join(root, 'escape.tif'));
  folder = { root, prefix: 'lab/' };
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('resolveSlideId', () => {
  it("gives the real path of a slide inside a folder, by the folder's prefix", async () => {
    expect(await resolveSlideId('lab/sub/a.tif', [folder], new Map())).toBe(path.join(folder.root, 'sub', 'a.tif'));
  });

  it('gives a registered file by its id, even outside the folders', async () => {
    expect(await resolveSlideId('outside.tif', [folder], new Map([['outside.tif', outside]]))).toBe(outside);
  });

  it.each([
    ['', /empty/],
    ['lab/a\0.tif', /NUL byte/],
    ['/etc/passwd.tif', /absolute path/],
    ['C:/slides/a.tif', /absolute path/],
    ['lab\\sub\\a.tif', /backslash/],
    ['lab/../slides/sub/a.tif', /'\.', '\.\.' or empty/],
    ['lab//sub/a.tif', /'\.', '\.\.' or empty/],
    ['lab/escape.tif', /leads outside the configured slide folders/],
  ])('refuses %j with INVALID_ARGUMENT', async (id, message) => {
    const error = await rejection(resolveSlideId(id, [folder], new Map()));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
  });

  it.each(['lab/sub/missing.tif', 'other/sub/a.tif', 'lab/sub/a.txt', 'lab/sub'])(
    'answers NOT_FOUND for %j',
    async (id) => {
      expect((await rejection(resolveSlideId(id, [folder], new Map()))).code).toBe('NOT_FOUND');
    },
  );
});
