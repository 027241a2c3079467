/**
 * The annotation store's files: a version appended is read back whole after the store is opened again; a second
 * store on the same folder (another process) cannot take a version number already there; a dead process's
 * temporary file is removed and never read as a version; a file that is not a version of the slide is left out;
 * the data folder is created at open and a folder that cannot hold files is refused then.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SlideAnnotations } from '@glomseg/shared/reviewed-annotations.js';
import { defaultDataDir, FileAnnotationStore } from '../../../server/src/annotations/file-annotation-store.js';

const SIGNAL = new AbortController().signal;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(version: number, slideId = 'a/b.tif', author = 'alice'): SlideAnnotations {
  return {
    version: {
      slideId,
      version,
      author,
      savedAt: `2026-12-07T05:0${version}:00.000Z`,
      regionCount: 1,
      glomerulusCount: 1,
      note: `v${version}`,
    },
    regions: [
      {
        id: 'r1',
        outline: [
          [0, 0],
          [100 * version, 0],
          [0, 100],
        ],
        glomeruli: [
          {
            exterior: [
              [1, 1],
              [2, 1],
              [1, 2],
            ],
            holes: [],
            source: 'edited',
          },
        ],
      },
    ],
  };
}

describe('the file annotation store', () => {
  it('reads back every appended version whole, newest first, after being opened again', async () => {
    const store = await FileAnnotationStore.open(path.join(dir, 'data'));
    for (const v of [1, 2, 3]) expect(await store.append(record(v), SIGNAL)).toEqual({ stored: true });
    await store.append(record(1, 'other.tif'), SIGNAL);
    await store.close();
    const again = await FileAnnotationStore.open(path.join(dir, 'data'));
    expect((await again.versions('a/b.tif', SIGNAL)).map((v) => v.version)).toEqual([3, 2, 1]);
    expect(await again.read('a/b.tif', 2, SIGNAL)).toEqual(record(2));
    expect(await again.read('a/b.tif', 4, SIGNAL)).toBeUndefined();
    expect(await again.versions('never-saved.tif', SIGNAL)).toEqual([]);
    expect((await again.versions('other.tif', SIGNAL)).map((v) => v.note)).toEqual(['v1']);
  });

  it('refuses a version number another store on the same folder already wrote, naming that version', async () => {
    const one = await FileAnnotationStore.open(dir);
    const two = await FileAnnotationStore.open(dir);
    await one.append(record(1), SIGNAL);
    await two.versions('a/b.tif', SIGNAL);
    expect(await one.append(record(2, 'a/b.tif', 'alice'), SIGNAL)).toEqual({ stored: true });
    const outcome = await two.append(record(2, 'a/b.tif', 'bob'), SIGNAL);
    expect(outcome).toEqual({ stored: false, latest: record(2).version });
    expect((await two.read('a/b.tif', 2, SIGNAL))?.version.author).toBe('alice');
    // Nothing of the refused write is left behind.
    const [slideFolder] = await readdir(path.join(dir, 'annotations'));
    expect((await readdir(path.join(dir, 'annotations', slideFolder))).sort()).toEqual([
      'v00000001.json',
      'v00000002.json',
    ]);
  });

  it("removes a dead process's temporary file, never reads it, and leaves out files that are not versions", async () => {
    const store = await FileAnnotationStore.open(dir);
    await store.append(record(1), SIGNAL);
    const [key] = await readdir(path.join(dir, 'annotations'));
    const folder = path.join(dir, 'annotations', key);
    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    await writeFile(path.join(folder, `.tmp-${dead}-abcdef`), '{"format":"glomseg-annotations/1","versi');
    await writeFile(path.join(folder, 'v00000002.json'), JSON.stringify(record(2, 'another-slide.tif')));
    const logged: string[] = [];
    const reopened = await FileAnnotationStore.open(dir, (m) => logged.push(m));
    expect((await reopened.versions('a/b.tif', SIGNAL)).map((v) => v.version)).toEqual([1]);
    expect(await readdir(folder)).not.toContain(`.tmp-${dead}-abcdef`);
    expect(logged.join('\n')).toMatch(/v00000002\.json is not a version of slide 'a\/b\.tif'; left out/);
  });

  it('creates the data folder at open, and refuses one that cannot hold files then', async () => {
    const nested = path.join(dir, 'x', 'y');
    await FileAnnotationStore.open(nested);
    expect(await readdir(nested)).toEqual(['annotations']);
    const blocked = path.join(dir, 'file');
    await writeFile(blocked, '');
    await expect(FileAnnotationStore.open(blocked)).rejects.toThrow(/the data folder .*file cannot hold annotations/);
    if (process.getuid?.() !== 0) {
      await chmod(nested, 0o500);
      await expect(FileAnnotationStore.open(path.join(nested, 'z'))).rejects.toThrow(/cannot hold annotations/);
    }
  });

  it('defaults to $XDG_DATA_HOME/glomseg, else ~/.local/share/glomseg', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/x' }, '/home/u')).toBe('/x/glomseg');
    expect(defaultDataDir({}, '/home/u')).toBe('/home/u/.local/share/glomseg');
  });
});
