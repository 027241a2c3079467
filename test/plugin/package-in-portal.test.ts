/**
 * The plugin as a portal developer gets it: `npm pack` of plugin/, installed into a fresh project outside the
 * repository (a temp folder), its README's embedding guide copied literally (only the server URL replaced), bundled by
 * the portal's own bundler and typechecked against the package's types, then run in Chromium against the real server
 * behind the portal's own HTTP proxy, which checks that the overlay's token provider reaches the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { GlomsegApp } from '../../server/src/app.js';
import { EVAL_REGION, MODELS, REPO_ROOT, WSI } from '../helpers/paths.js';
import { launchChromium, type Browser } from './browser.js';

const run = promisify(execFile);
const PLACEHOLDER = 'https://glomseg.example.org';
const TIMEOUT = 300_000;

let app: GlomsegApp;
let project: string;
let proxy: http.Server;
let proxyUrl: string;
let browser: Browser;
const authorizations: string[] = [];

/** The code block of `lang` that follows `marker` in the README. */
function blockAfter(readme: string, marker: string, lang: string): string {
  const at = readme.indexOf(marker);
  expect(at, `README has ${marker}`).toBeGreaterThanOrEqual(0);
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  expect(match, `README has a ${lang} block after ${marker}`).not.toBeNull();
  return match![1];
}

beforeAll(async () => {
  // The slide folders `npm start` serves, so slide ids carry their folder as the README says.
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION, WSI],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
  });
  project = await mkdtemp(path.join(os.tmpdir(), 'glomseg-portal-'));
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const { stdout } = await run('npm', ['pack', '--pack-destination', project, '--silent'], {
    cwd: path.join(REPO_ROOT, 'plugin'),
    env,
    timeout: 180_000,
  });
  const tarball = path.join(project, stdout.trim().split('\n').pop()!);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'a-portal', private: true, type: 'module' }),
  );
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, 'ol@^10', 'lit@^3'], {
    cwd: project,
    env,
    timeout: 240_000,
  });
  browser = await launchChromium({ width: 1600, height: 1000 });
}, TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await app?.close();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('@glomseg/plugin installed from its tarball in a portal project', () => {
  it(
    'ships only its own files: an ES module with types that imports nothing outside the package but its dependencies',
    async () => {
      const installed = path.join(project, 'node_modules/@glomseg/plugin');
      const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8'));
      expect(manifest.private).toBeUndefined();
      expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['lit', 'ol']);
      const code = await readFile(path.join(installed, 'dist/index.js'), 'utf8');
      const imports = [...code.matchAll(/from\s*"([^"]+)"/g)].map((m) => m[1]);
      expect(imports.filter((spec) => spec.startsWith('.') || spec.startsWith('@glomseg/'))).toEqual([]);
      const allowed = [...Object.keys(manifest.peerDependencies), ...Object.keys(manifest.dependencies)];
      for (const spec of imports)
        expect(
          allowed.some((dep) => spec === dep || spec.startsWith(`${dep}/`)),
          spec,
        ).toBe(true);

      // The portal's TypeScript sees the package's types, without decorator flags of its own.
      await writeFile(
        path.join(project, 'check.ts'),
        "import type { GlomsegOverlay, LiveDiceMetrics } from '@glomseg/plugin';\n" +
          "const overlay = document.createElement('glomseg-overlay') as GlomsegOverlay;\n" +
          "overlay.threshold = 0.5;\noverlay.headers = () => ({ authorization: 'Bearer x' });\n" +
          'const dice: LiveDiceMetrics | undefined = overlay.metrics;\nexport { dice };\n',
      );
      await run(
        process.execPath,
        [
          path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          '--lib',
          'es2022,dom',
          'check.ts',
        ],
        { cwd: project },
      );
    },
    TIMEOUT,
  );

  it(
    'follows plugin/README.md literally: polygons on the portal map, the token provider reaching the server',
    async () => {
      const readme = await readFile(path.join(REPO_ROOT, 'plugin/README.md'), 'utf8');
      const server = app.httpUrl!;
      // The portal's proxy serves its own files and forwards the rest to glomseg, noting the authorization it carries.
      proxy = http.createServer(async (request, response) => {
        const url = request.url ?? '/';
        const local = url === '/' ? 'index.html' : url.slice(1);
        if (['index.html', 'main.bundle.js', 'node_modules/ol/ol.css'].includes(local)) {
          const type = local.endsWith('.html') ? 'text/html' : local.endsWith('.css') ? 'text/css' : 'text/javascript';
          response.writeHead(200, { 'content-type': type }).end(await readFile(path.join(project, local)));
          return;
        }
        if (url.startsWith('/glomseg.v1.Glomseg/')) authorizations.push(String(request.headers.authorization ?? ''));
        const upstream = http.request(
          new URL(url, server),
          { method: request.method, headers: request.headers },
          (reply) => {
            response.writeHead(reply.statusCode ?? 502, reply.headers);
            reply.pipe(response);
          },
        );
        upstream.on('error', () => response.destroy());
        request.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;

      const page = blockAfter(readme, '`index.html`:', 'html');
      const main = blockAfter(readme, '`main.js`:', 'js');
      expect(page).toContain(PLACEHOLDER);
      await writeFile(path.join(project, 'index.html'), page.replaceAll(PLACEHOLDER, proxyUrl));
      await writeFile(path.join(project, 'main.js'), main.replaceAll(PLACEHOLDER, proxyUrl));
      await esbuild.build({
        absWorkingDir: project,
        entryPoints: ['main.js'],
        outfile: 'main.bundle.js',
        bundle: true,
        format: 'esm',
        logLevel: 'warning',
      });

      const tab = await browser.newPage();
      await tab.goto(`${proxyUrl}/`);
      await tab.waitForFunction(
        () => {
          const status = document.getElementById('glomseg')?.shadowRoot?.querySelector<HTMLElement>('[part=status]');
          return (
            !!status &&
            status.dataset.streaming === 'false' &&
            Number(status.dataset.total) > 0 &&
            status.dataset.received === status.dataset.total
          );
        },
        null,
        { timeout: TIMEOUT, polling: 250 },
      );
      const state = await tab.evaluate(() => ({
        predictions: (document.getElementById('glomseg') as any).predictions.length,
        mapHeight: document.getElementById('map')!.getBoundingClientRect().height,
        error: document.getElementById('glomseg')!.shadowRoot!.querySelector('[part=error]')?.textContent ?? '',
      }));
      expect(state.error).toBe('');
      expect(state.predictions).toBeGreaterThan(10);
      expect(state.mapHeight).toBeGreaterThan(100);
      expect(authorizations.length).toBeGreaterThan(0);
      expect(new Set(authorizations)).toEqual(new Set(['Bearer your-session-token']));
      expect(tab.errors).toEqual([]);
      await tab.close();
    },
    TIMEOUT,
  );

  it(
    'gives a portal the prediction layer without the panel',
    async () => {
      // The map code of the README's main.js, with the layer instead of <glomseg-overlay>.
      const readme = await readFile(path.join(REPO_ROOT, 'plugin/README.md'), 'utf8');
      const main = blockAfter(readme, '`main.js`:', 'js').replaceAll(PLACEHOLDER, proxyUrl);
      const mapPart = main.slice(0, main.indexOf("const overlay = document.getElementById('glomseg');"));
      const layerOnly = `import { PredictionLayer } from '@glomseg/plugin';
${mapPart}
const layer = new PredictionLayer({ onState: (state) => { window.__state = state; }, onError: (error) => { window.__error = String(error); } });
layer.attach(map);
layer.configure({ serverUrl: server, slide: slide.id, model: '', threshold: 0, mppOverride: 0, pixelOrigin: 'top-left', maxTiles: 400 });
window.__layer = layer;
`;
      await writeFile(path.join(project, 'main.js'), layerOnly);
      await writeFile(
        path.join(project, 'index.html'),
        '<!doctype html><html><head><meta charset="utf-8"><script type="module" src="main.bundle.js"></script></head><body><div id="map" style="width: 900px; height: 700px"></div></body></html>',
      );
      await esbuild.build({
        absWorkingDir: project,
        entryPoints: ['main.js'],
        outfile: 'main.bundle.js',
        bundle: true,
        format: 'esm',
        logLevel: 'warning',
      });
      const tab = await browser.newPage();
      await tab.goto(`${proxyUrl}/`);
      await tab.waitForFunction(
        () => {
          const state = (window as any).__state;
          return (
            (window as any).__error || (state && !state.streaming && state.total > 0 && state.received === state.total)
          );
        },
        null,
        { timeout: TIMEOUT, polling: 250 },
      );
      const result = await tab.evaluate(() => ({
        error: (window as any).__error,
        features: (window as any).__layer.source.getFeatures().length,
        panels: document.querySelectorAll('glomseg-overlay').length,
      }));
      expect(result.error).toBeUndefined();
      expect(result.features).toBeGreaterThan(10);
      expect(result.panels).toBe(0);
      expect(tab.errors).toEqual([]);
      await tab.close();
    },
    TIMEOUT,
  );
});
