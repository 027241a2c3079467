/**
 * The plugin as a portal developer gets it: `npm pack` of plugin/, installed into a fresh project outside the
 * repository (a temp folder) with the README's own `npm install` line, its embedding guide copied literally (only the
 * server URL replaced), built by the two bundlers the README names (esbuild, and Vite from index.html), typechecked
 * against the package's types, then run in Chromium against a real token server (--auth-token-file holding the
 * README's 'your-session-token') behind the portal's own HTTP proxy, which checks that the token provider reaches
 * the server on every call and image tile. The README's slide-listing command runs too.
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
import { resolveServeSecurity } from '../../server/src/cli/serve-security.js';
import { EVAL_REGION, MODELS, REPO_ROOT, WSI } from '../helpers/paths.js';
import { launchChromium, type Browser } from './browser.js';

const run = promisify(execFile);
const PLACEHOLDER = 'https://glomseg.example.org';
const TOKEN = 'your-session-token';
const TIMEOUT = 300_000;
/** The bundlers the README names, as `npx` runs them once installed (the repository's copies: no download). */
const NPX: Record<string, string[]> = {
  esbuild: [path.join(REPO_ROOT, 'node_modules/.bin/esbuild')],
  vite: [process.execPath, path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js')],
  buf: [path.join(REPO_ROOT, 'node_modules/.bin/buf')],
};

let app: GlomsegApp;
let project: string;
let proxy: http.Server;
let proxyUrl: string;
/** The folder whose files the portal's proxy serves (the project for esbuild, Vite's dist/ for Vite). */
let served: string;
let browser: Browser;
/** The authorization header of every gRPC-Web call and image tile the proxy forwarded. */
const authorizations: string[] = [];
let readme: string;

/** The code block of `lang` that follows `marker` in the README. */
function blockAfter(readme: string, marker: string, lang: string): string {
  const at = readme.indexOf(marker);
  expect(at, `README has ${marker}`).toBeGreaterThanOrEqual(0);
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  expect(match, `README has a ${lang} block after ${marker}`).not.toBeNull();
  return match![1];
}

/** Runs a README command line (`npx <tool> …`, no shell syntax) in the portal project. */
async function runReadmeCommand(line: string, cwd: string, extra: string[] = []): Promise<string> {
  const [npx, tool, ...args] = [...line.trim().split(/\s+/), ...extra];
  expect(npx).toBe('npx');
  expect(NPX[tool], `a tool the test knows: ${tool}`).toBeDefined();
  const [command, ...first] = NPX[tool];
  const { stdout } = await run(command, [...first, ...args], { cwd, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The portal's proxy: its own files from `served`, everything else forwarded to glomseg, noting the authorization. */
async function startProxy(server: string): Promise<void> {
  proxy = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://portal');
    const local = path.join(served, url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname));
    if (local.startsWith(served + path.sep)) {
      const body = await readFile(local).catch(() => undefined);
      if (body) {
        const type = local.endsWith('.html') ? 'text/html' : local.endsWith('.css') ? 'text/css' : 'text/javascript';
        response.writeHead(200, { 'content-type': type }).end(body);
        return;
      }
    }
    if (url.pathname.startsWith('/glomseg.v1.Glomseg/') || url.pathname.startsWith('/api/slides/'))
      authorizations.push(String(request.headers.authorization ?? ''));
    const upstream = http.request(
      new URL(url.pathname + url.search, server),
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
}

beforeAll(async () => {
  readme = await readFile(path.join(REPO_ROOT, 'plugin/README.md'), 'utf8');
  project = await mkdtemp(path.join(os.tmpdir(), 'glomseg-portal-'));
  // A token server, holding the token the README's main.js uses; the slide folders `npm start` serves, so slide
  // ids carry their folder as the README says.
  await writeFile(path.join(project, 'tokens.txt'), `${TOKEN}\n`);
  const { security } = await resolveServeSecurity({ authTokenFile: path.join(project, 'tokens.txt') });
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION, WSI],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
    security,
  });
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  // The README's install block: `npm pack` in plugin/ (here into the project folder), then its `npm install` line.
  const install = blockAfter(readme, '## Install', 'sh');
  const { stdout } = await run('npm', ['pack', '--pack-destination', project, '--silent'], {
    cwd: path.join(REPO_ROOT, 'plugin'),
    env,
    timeout: 180_000,
  });
  const tarballName = stdout.trim().split('\n').pop()!;
  const installLine = /npm install (\S+\.tgz) .*$/m.exec(install);
  expect(installLine, "the README's install block has an npm install of the tarball").not.toBeNull();
  expect(path.basename(installLine![1]), 'the tarball the README names is the one npm pack makes').toBe(tarballName);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'a-portal', private: true, type: 'module' }),
  );
  const args = installLine![0].split(/\s+/).slice(2);
  args[args.indexOf(installLine![1])] = path.join(project, tarballName);
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...args], {
    cwd: project,
    env,
    timeout: 240_000,
  });
  await startProxy(app.httpUrl!);
  browser = await launchChromium({ width: 1600, height: 1000 });
}, TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await app?.close();
  if (project) await rm(project, { recursive: true, force: true });
});

/** The README's index.html and main.js in the project, only the server URL replaced (by the portal's proxy). */
async function copyReadmeFiles(): Promise<void> {
  const page = blockAfter(readme, '`index.html`:', 'html');
  const main = blockAfter(readme, '`main.js`:', 'js');
  expect(page).toContain(PLACEHOLDER);
  expect(main).toContain(`'${TOKEN}'`);
  await writeFile(path.join(project, 'index.html'), page.replaceAll(PLACEHOLDER, proxyUrl));
  await writeFile(path.join(project, 'main.js'), main.replaceAll(PLACEHOLDER, proxyUrl));
}

/** The portal page streams every tile of its view with no error, every call and image tile carrying the token. */
async function expectPortalStreams(): Promise<void> {
  authorizations.length = 0;
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
    // OpenLayers' stylesheet reached the page (its zoom buttons are laid out by it).
    zoomPosition: getComputedStyle(document.querySelector('.ol-zoom')!).position,
  }));
  expect(state.error).toBe('');
  expect(state.predictions).toBeGreaterThan(10);
  expect(state.mapHeight).toBeGreaterThan(100);
  expect(state.zoomPosition).toBe('absolute');
  expect(authorizations.length).toBeGreaterThan(0);
  expect(new Set(authorizations)).toEqual(new Set([`Bearer ${TOKEN}`]));
  expect(tab.errors).toEqual([]);
  await tab.close();
}

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
    "lists the slides with the README's buf curl command (with the token, as it says for a token server)",
    async () => {
      const command = blockAfter(readme, '## Slide ids', 'sh').trim();
      expect(command).not.toMatch(/grpcurl/);
      expect(readme).toContain(`-H "authorization: Bearer $TOKEN" --reflect-header '*'`);
      const out = await runReadmeCommand(command.replace('127.0.0.1:50051', app.grpcAddress), project, [
        '-H',
        `authorization: Bearer ${TOKEN}`,
        '--reflect-header',
        '*',
      ]);
      expect(out).toContain('eval-region/kidney-region.tif');
    },
    TIMEOUT,
  );

  it(
    'follows plugin/README.md literally with esbuild: polygons on the portal map, the token on every call and tile',
    async () => {
      await copyReadmeFiles();
      const bullet = /npx esbuild [^`]+/.exec(readme);
      expect(bullet, 'the README says how to bundle with esbuild').not.toBeNull();
      await runReadmeCommand(bullet![0], project);
      // As the README says: the page loads esbuild's output instead of main.js.
      const page = await readFile(path.join(project, 'index.html'), 'utf8');
      expect(page).toContain('src="main.js"');
      await writeFile(path.join(project, 'index.html'), page.replace('src="main.js"', 'src="main.bundle.js"'));
      served = project;
      await expectPortalStreams();
    },
    TIMEOUT,
  );

  it(
    'follows plugin/README.md literally with Vite: `npx vite build` of the same two files, served from dist/',
    async () => {
      await copyReadmeFiles();
      expect(readme).toContain('`npx vite build` writes it to `dist/`');
      await runReadmeCommand('npx vite build', project);
      served = path.join(project, 'dist');
      await expectPortalStreams();
    },
    TIMEOUT,
  );

  it(
    'gives a portal the prediction layer without the panel',
    async () => {
      // The map code of the README's main.js, with the layer instead of <glomseg-overlay>.
      const main = blockAfter(readme, '`main.js`:', 'js').replaceAll(PLACEHOLDER, proxyUrl);
      const mapPart = main.slice(0, main.indexOf("const overlay = document.getElementById('glomseg');"));
      const layerOnly = `import { PredictionLayer } from '@glomseg/plugin';
${mapPart}
const layer = new PredictionLayer({ onState: (state) => { window.__state = state; }, onError: (error) => { window.__error = String(error); } });
layer.attach(map);
layer.configure({ serverUrl: server, headers: auth, slide: slide.id, model: '', threshold: 0, mppOverride: 0, pixelOrigin: 'top-left', maxTiles: 400 });
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
      served = project;
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
