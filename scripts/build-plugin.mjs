#!/usr/bin/env node
// Bundles the viewer plugin (Lit + OpenLayers + connect-web + protobuf-es) into one ES module:
// plugin/dist/glomseg-plugin.js. `npm run build:plugin`; the web server also calls buildPlugin() when the bundle is stale.
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const pluginEntry = path.join(repoRoot, 'plugin/src/index.ts');
export const pluginBundle = path.join(repoRoot, 'plugin/dist/glomseg-plugin.js');

/** Builds the bundle; returns its path. `minify: false` keeps it readable for debugging. */
export async function buildPlugin({ minify = true, outfile = pluginBundle } = {}) {
  await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: [pluginEntry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify,
    legalComments: 'linked',
    loader: { '.css': 'text' },
    tsconfig: path.join(repoRoot, 'tsconfig.json'),
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const minify = !process.argv.includes('--no-minify');
  const started = Date.now();
  const outfile = await buildPlugin({ minify });
  console.log(`built ${path.relative(repoRoot, outfile)} in ${Date.now() - started} ms`);
}
