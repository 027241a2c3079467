#!/usr/bin/env node
// Bundles the viewer plugin (Lit + OpenLayers + connect-web + protobuf-es) into one ES module:
// plugin/dist/glomseg-plugin.js. `npm run build:plugin`; the web server also calls buildPlugin() when the bundle is stale.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const pluginEntry = path.join(repoRoot, 'plugin/src/index.ts');
export const pluginBundle = path.join(repoRoot, 'plugin/dist/glomseg-plugin.js');
/** The repository folders the bundle is built from: a file newer than the bundle in any of them makes it stale. */
export const pluginSourceFolders = ['plugin/src', 'shared/src', 'api/src', 'api/gen'].map((folder) => path.join(repoRoot, folder));

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
};

/** Builds the bundle; returns its path. `minify: false` keeps it readable for debugging. */
export async function buildPlugin({ minify = true, outfile = pluginBundle } = {}) {
  await esbuild.build({ ...COMMON, outfile, minify, legalComments: 'linked' });
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
export async function buildPluginModule() {
  const outfile = path.join(repoRoot, 'plugin/dist/index.js');
  await esbuild.build({
    ...COMMON,
    outfile,
    plugins: [
      {
        name: 'externals',
        setup(build) {
          build.onResolve({ filter: PACKAGE_EXTERNALS }, (args) => (args.path.endsWith('.css') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return outfile;
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
  await promisify(execFile)(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', path.join(repoRoot, 'plugin/tsconfig.build.json')], { cwd: repoRoot });
  for (const entry of await readdir(typesDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    const fixed = text.replace(/(['"])@glomseg\/(shared|api)\/([^'"]+)\1/g, (_, quote, workspace, rest) => {
      // Workspace exports: '@glomseg/shared/x' is shared/src/x; '@glomseg/api/gen/x' is api/gen/x, '@glomseg/api/x' api/src/x.
      const target = workspace === 'api' && rest.startsWith('gen/') ? path.join(typesDir, 'api', rest) : path.join(typesDir, workspace, 'src', rest);
      let relative = path.relative(path.dirname(file), target).split(path.sep).join('/');
      if (!relative.startsWith('.')) relative = `./${relative}`;
      return `${quote}${relative}${quote}`;
    });
    if (fixed !== text) await writeFile(file, fixed);
  }
  await writeFile(path.join(repoRoot, 'plugin/dist/index.d.ts'), "export * from './types/plugin/src/index.js';\n");
  return typesDir;
}

/** Everything `npm pack plugin/` ships: the ES module, its types and the script-tag bundle. */
export async function buildPluginPackage() {
  await buildPluginModule();
  await buildPluginTypes();
  await buildPlugin();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const minify = !process.argv.includes('--no-minify');
  const started = Date.now();
  if (process.argv.includes('--package')) {
    await buildPluginPackage();
    console.log(`built plugin/dist (index.js, index.d.ts, types/, glomseg-plugin.js) in ${Date.now() - started} ms`);
  } else {
    const outfile = await buildPlugin({ minify });
    console.log(`built ${path.relative(repoRoot, outfile)} in ${Date.now() - started} ms`);
  }
}
