// The web server rebuilds the plugin bundle when a file in pluginSourceFolders is newer than it: every file the
// build actually reads must lie in one of them, or an edit there leaves a stale bundle served.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';
// @ts-expect-error plain ES module without types
import { pluginInputs, pluginSourceFolders } from '../../scripts/build-plugin.mjs';

describe('build-plugin', () => {
  it('watches every repository folder the bundle is built from', async () => {
    const inputs = (await pluginInputs()) as string[];
    const folders = pluginSourceFolders as string[];
    // The bundle reads the plugin, the pure shared code and the API package (generated code included).
    for (const folder of ['plugin/src', 'shared/src', 'api/gen']) {
      expect(
        inputs.some((input) => input.startsWith(`${path.resolve(folder)}${path.sep}`)),
        folder,
      ).toBe(true);
    }
    const unwatched = inputs.filter((input) => !folders.some((folder) => input.startsWith(`${folder}${path.sep}`)));
    expect(unwatched).toEqual([]);
  });
});

/**
 * The plugin tarball as npm packs it (prepack builds it): the MIT licence of glomseg, and the licence of every
 * third-party package the bundles hold, found independently of the build from the packed source maps.
 */
describe('npm pack of plugin/', () => {
  const run = promisify(execFile);
  let folder: string;
  let packed: Map<string, string>;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'glomseg-pack-'));
    const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
    const { stdout } = await run('npm', ['pack', '--pack-destination', folder, '--silent'], {
      cwd: path.join(REPO_ROOT, 'plugin'),
      env,
      timeout: 240_000,
    });
    const tarball = path.join(folder, stdout.trim().split('\n').pop()!);
    await run('tar', ['-xzf', tarball, '-C', folder]);
    const files = (await readdir(path.join(folder, 'package'), { recursive: true, withFileTypes: true })).filter((e) =>
      e.isFile(),
    );
    packed = new Map();
    for (const file of files) {
      const full = path.join(file.parentPath, file.name);
      packed.set(
        path.relative(path.join(folder, 'package'), full).split(path.sep).join('/'),
        await readFile(full, 'utf8'),
      );
    }
  }, 300_000);

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('ships the MIT licence its package.json names, the same text as the repository root', async () => {
    expect(JSON.parse(packed.get('package.json')!).license).toBe('MIT');
    const licence = packed.get('LICENSE');
    expect(licence).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the glomseg authors\n/);
    expect(licence).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
    expect(licence).toBe(await readFile(path.join(REPO_ROOT, 'LICENSE'), 'utf8'));
    expect(await readFile(path.join(REPO_ROOT, 'plugin', 'LICENSE'), 'utf8')).toBe(licence);
    expect(JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')).license).toBe('MIT');
  });

  it('every licence file a bundle points to is packed', () => {
    for (const bundle of ['dist/glomseg-plugin.js', 'dist/index.js']) {
      const code = packed.get(bundle)!;
      const pointers = [...code.matchAll(/\/\*![^*]*?(?:see|in) ([\w.-]+\.txt)/g)].map((m) => m[1]);
      expect(pointers.length, `${bundle} says where its licences are`).toBeGreaterThan(0);
      for (const pointer of pointers)
        expect([...packed.keys()], `${bundle} points to ${pointer}`).toContain(`dist/${pointer}`);
    }
  });

  it("holds each bundled third-party package's licence: OpenLayers, Lit, polygon-clipping, simplify-js and the rest", async () => {
    // What the bundles hold, from their packed source maps: every node_modules package a source came from.
    const bundled = new Set<string>();
    for (const map of ['dist/glomseg-plugin.js.map', 'dist/index.js.map']) {
      for (const source of JSON.parse(packed.get(map)!).sources as string[]) {
        const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source.slice(source.lastIndexOf('node_modules/')));
        if (match) bundled.add(match[1]);
      }
    }
    // Lit's code is lit-html, lit-element and @lit/reactive-element (the lit package itself only re-exports them).
    expect([...bundled]).toEqual(
      expect.arrayContaining([
        'ol',
        'lit-html',
        'lit-element',
        '@lit/reactive-element',
        'polygon-clipping',
        'simplify-js',
        '@connectrpc/connect',
        '@bufbuild/protobuf',
      ]),
    );
    const notices = packed.get('dist/THIRD-PARTY-NOTICES.txt')!;
    expect(notices, 'dist/THIRD-PARTY-NOTICES.txt is packed').toBeDefined();
    const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
    for (const name of bundled) {
      const folder = path.join(REPO_ROOT, 'node_modules', name);
      const manifest = JSON.parse(await readFile(path.join(folder, 'package.json'), 'utf8'));
      expect(notices, name).toContain(`${name}@${manifest.version}`);
      const licenceFiles = (await readdir(folder)).filter((f) => /^(licen[cs]e|copying|notice)(\.\w+)?$/i.test(f));
      for (const file of licenceFiles)
        expect(squash(notices), `${name}/${file}`).toContain(squash(await readFile(path.join(folder, file), 'utf8')));
      if (licenceFiles.length === 0) {
        // A package that ships no licence file: its licence by name with the licence's own text.
        for (const id of manifest.license.match(/[\w.+-]+/g).filter((id: string) => !['AND', 'OR'].includes(id)))
          expect(notices, name).toContain(`The text of ${id}`);
        if (/Apache-2\.0/.test(manifest.license))
          expect(notices).toMatch(/Apache License\s+Version 2\.0, January 2004/);
        if (/BSD-3-Clause/.test(manifest.license))
          expect(notices).toContain('Neither the name of the copyright holder nor the names of its');
      }
    }
    // Code that packages carry inside them (polygon-clipping holds splaytree and tslib): their licence comments.
    expect(notices).toMatch(/splaytree v[\d.]+[\s\S]*@license MIT/);
    expect(notices).toContain('Copyright (c) Microsoft Corporation');
  });
});
