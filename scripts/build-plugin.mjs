#!/usr/bin/env node
// Bundles the viewer plugin (Lit + OpenLayers + connect-web + protobuf-es) into one ES module:
// plugin/dist/glomseg-plugin.js. `npm run build:plugin`; the web server also calls buildPlugin() when the bundle is stale.
// Beside each build goes THIRD-PARTY-NOTICES.txt: the licence of every package the bundles hold.
import * as esbuild from 'esbuild';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const pluginEntry = path.join(repoRoot, 'plugin/src/index.ts');
export const pluginBundle = path.join(repoRoot, 'plugin/dist/glomseg-plugin.js');
/** The repository folders the bundle is built from: a file newer than the bundle in any of them makes it stale. */
export const pluginSourceFolders = ['plugin/src', 'shared/src', 'api/src', 'api/gen', 'plugin/licenses'].map((folder) =>
  path.join(repoRoot, folder),
);
/** The licences of the bundled third-party code, beside the bundles: npm packs it and the web server serves it with them. */
export const NOTICES_FILE = 'THIRD-PARTY-NOTICES.txt';
/** Standard licence texts by SPDX id, for bundled packages that ship no licence file of their own. */
const LICENCE_TEXTS = path.join(repoRoot, 'plugin/licenses');

/** What every build of the plugin shares: one ES module for browsers from plugin/src/index.ts, CSS inlined as text. */
const COMMON = {
  absWorkingDir: repoRoot,
  entryPoints: [pluginEntry],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  loader: { '.css': 'text' },
  tsconfig: path.join(repoRoot, 'tsconfig.json'),
  logLevel: 'warning',
  banner: {
    js: `/*! @glomseg/plugin, MIT licence (LICENSE). The licences of the third-party code bundled here are in ${NOTICES_FILE} */`,
  },
};

/**
 * One build, written to disk; returns what the notices need: the files esbuild read, and the licence comments it
 * collected from them (code that packages carry inside them, such as polygon-clipping's splaytree and tslib).
 */
async function bundle(options) {
  const result = await esbuild.build({
    ...COMMON,
    ...options,
    legalComments: 'external',
    metafile: true,
    write: false,
  });
  let legal = '';
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.LEGAL.txt')) {
      legal = file.text;
      continue;
    }
    await mkdir(path.dirname(file.path), { recursive: true });
    await writeFile(file.path, file.contents);
  }
  return { inputs: Object.keys(result.metafile.inputs).map((input) => path.resolve(repoRoot, input)), legal };
}

/** The folder of the package a bundled file comes from (node_modules/name or node_modules/@scope/name), if any. */
function packageFolderOf(file) {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const parts = file.slice(at + marker.length).split(path.sep);
  return file.slice(0, at + marker.length) + parts.slice(0, parts[0].startsWith('@') ? 2 : 1).join(path.sep);
}

const RULE = `${'='.repeat(100)}\n`;

/**
 * THIRD-PARTY-NOTICES.txt in `folder` for these builds: each bundled package with its own licence files, or, where it
 * ships none, its copyright lines and the standard text of its licence (refusing to build when that text is missing
 * from plugin/licenses, rather than ship a package without its licence); then the licence comments in the code.
 */
async function writeNotices(folder, builds) {
  const packages = new Map();
  for (const file of builds.flatMap((b) => b.inputs)) {
    const root = packageFolderOf(file);
    if (root) packages.set(root, [...(packages.get(root) ?? []), file]);
  }
  const sections = [];
  const standardTexts = new Set();
  for (const [root, files] of [...packages].sort(([a], [b]) => a.localeCompare(b))) {
    const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
    const licence = String(manifest.license ?? '').replace(/^\((.*)\)$/, '$1');
    const heading = `${manifest.name}@${manifest.version} (${licence})\n`;
    const licenceFiles = (await readdir(root)).filter((f) => /^(licen[cs]e|copying|notice)(\.\w+)?$/i.test(f)).sort();
    if (licenceFiles.length > 0) {
      const texts = await Promise.all(licenceFiles.map((f) => readFile(path.join(root, f), 'utf8')));
      sections.push(`${heading}${'-'.repeat(100)}\n${texts.map((t) => t.trim()).join('\n\n')}\n`);
      continue;
    }
    const ids = licence.match(/[\w.+-]+/g)?.filter((id) => !['AND', 'OR', 'WITH'].includes(id)) ?? [];
    if (ids.length === 0)
      throw new Error(`${manifest.name} ships no licence file and names no licence: cannot bundle it`);
    for (const id of ids) {
      const text = path.join(LICENCE_TEXTS, `${id}.txt`);
      await readFile(text).catch(() => {
        throw new Error(
          `${manifest.name} ships no licence file, and plugin/licenses has no ${id}.txt: add the standard text of ${id} there`,
        );
      });
      standardTexts.add(id);
    }
    const copyrights = new Set();
    for (const file of files) {
      for (const [line] of (await readFile(file, 'utf8')).matchAll(/Copyright\b[^\n]*/g))
        copyrights.add(line.replace(/\s*\*\/.*$/, '').trim());
    }
    sections.push(
      `${heading}${'-'.repeat(100)}\nThe package ships no licence file. Its copyright notices:\n${[...copyrights].map((c) => `  ${c}\n`).join('')}` +
        `Its licence: ${licence}, whose text${ids.length > 1 ? 's are' : ' is'} at the end of this file.\n`,
    );
  }
  for (const id of [...standardTexts].sort())
    sections.push(
      `The text of ${id}\n${'-'.repeat(100)}\n${(await readFile(path.join(LICENCE_TEXTS, `${id}.txt`), 'utf8')).replace(/^\n+|\s+$/g, '')}\n`,
    );
  const legal = [...new Set(builds.map((b) => b.legal.trim()).filter(Boolean))];
  if (legal.length > 0)
    sections.push(`Licence comments in the bundled code\n${'-'.repeat(100)}\n${legal.join('\n\n')}\n`);
  const text = `Third-party code bundled in @glomseg/plugin (dist/), and its licences.\n\n${sections.map((s) => RULE + s).join('\n')}`;
  await writeFile(path.join(folder, NOTICES_FILE), text);
}

/** Builds the bundle and its notices; returns its path. `minify: false` keeps it readable for debugging. */
export async function buildPlugin({ minify = true, outfile = pluginBundle } = {}) {
  await writeNotices(path.dirname(outfile), [await bundle({ outfile, minify })]);
  return outfile;
}

/** The repository files (not node_modules) a build of the bundle reads, as esbuild resolves them: absolute paths. */
export async function pluginInputs() {
  const { metafile } = await esbuild.build({ ...COMMON, outfile: pluginBundle, write: false, metafile: true });
  return Object.keys(metafile.inputs)
    .map((input) => path.resolve(repoRoot, input))
    .filter((input) => !input.split(path.sep).includes('node_modules'));
}

/** What a portal's bundler shares with the portal rather than getting a second copy of (peer and plain dependencies). */
const PACKAGE_EXTERNALS = /^(ol|lit|@lit|@connectrpc|@bufbuild)(\/|$)/;

/**
 * The npm package's ES module, plugin/dist/index.js: our code with shared/ and api/ (generated code included) inside (the package imports
 * nothing outside itself), OpenLayers, Lit and connect left to the portal's bundler. CSS files are inlined as text.
 */
async function buildPluginModule() {
  const outfile = path.join(repoRoot, 'plugin/dist/index.js');
  return bundle({
    outfile,
    plugins: [
      {
        name: 'externals',
        setup(build) {
          build.onResolve({ filter: PACKAGE_EXTERNALS }, (args) =>
            args.path.endsWith('.css') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
}

/**
 * The package's types: declarations of plugin/, shared/ and api/ under plugin/dist/types (same folder layout as the
 * repository, so relative imports hold), with the workspaces' '@glomseg/shared/…' and '@glomseg/api/…' imports made relative.
 */
export async function buildPluginTypes() {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { readdir, readFile, writeFile, rm } = await import('node:fs/promises');
  const typesDir = path.join(repoRoot, 'plugin/dist/types');
  await rm(typesDir, { recursive: true, force: true });
  await promisify(execFile)(
    process.execPath,
    [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'plugin/tsconfig.build.json')],
    { cwd: repoRoot },
  );
  for (const entry of await readdir(typesDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    const fixed = text.replace(/(['"])@glomseg\/(shared|api)\/([^'"]+)\1/g, (_, quote, workspace, rest) => {
      // Workspace exports: '@glomseg/shared/x' is shared/src/x; '@glomseg/api/gen/x' is api/gen/x, '@glomseg/api/x' api/src/x.
      const target =
        workspace === 'api' && rest.startsWith('gen/')
          ? path.join(typesDir, 'api', rest)
          : path.join(typesDir, workspace, 'src', rest);
      let relative = path.relative(path.dirname(file), target).split(path.sep).join('/');
      if (!relative.startsWith('.')) relative = `./${relative}`;
      return `${quote}${relative}${quote}`;
    });
    if (fixed !== text) await writeFile(file, fixed);
  }
  await writeFile(path.join(repoRoot, 'plugin/dist/index.d.ts'), "export * from './types/plugin/src/index.js';\n");
  return typesDir;
}

/** Everything `npm pack plugin/` ships: the ES module, its types, the script-tag bundle and the notices of both. */
export async function buildPluginPackage() {
  const module = await buildPluginModule();
  await buildPluginTypes();
  const script = await bundle({ outfile: pluginBundle, minify: true });
  await writeNotices(path.dirname(pluginBundle), [module, script]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const minify = !process.argv.includes('--no-minify');
  const started = Date.now();
  if (process.argv.includes('--package')) {
    await buildPluginPackage();
    console.log(
      `built plugin/dist (index.js, index.d.ts, types/, glomseg-plugin.js, ${NOTICES_FILE}) in ${Date.now() - started} ms`,
    );
  } else {
    const outfile = await buildPlugin({ minify });
    console.log(`built ${path.relative(repoRoot, outfile)} in ${Date.now() - started} ms`);
  }
}
