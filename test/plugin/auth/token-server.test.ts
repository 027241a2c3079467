/**
 * The viewer and a portal against a real server started with a token file (--auth-token-file), in Debian's Chromium:
 * the viewer's sign-in (a refused token said so, the right one streaming polygons and loading the slide's image
 * tiles, kept for the tab's session only, sign-out), and plugin/README.md's portal page with its one token provider
 * serving both the gRPC-Web calls and the image tiles, and a clear error without a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { GlomsegApp } from '../../../server/src/app.js';
import { resolveServeSecurity } from '../../../server/src/cli/serve-security.js';
import { EVAL_REGION, MODELS, REPO_ROOT, WSI } from '../../helpers/paths.js';
import { launchChromium, type Browser } from '../browser.js';

const TOKEN = 'viewer-token-0123456789abcdef';
/** The demo slide, named as a server of two folders (`npm start`'s, and the README's) names it. */
const SLIDE = 'eval-region/kidney-region.tif';
const PLACEHOLDER = 'https://glomseg.example.org';
const TIMEOUT = 300_000;

let dir: string;
let app: GlomsegApp;
let portal: http.Server;
let portalUrl: string;
let portalFiles: Record<string, string> = {};
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-token-server-'));
  // The portal's own web server (another origin), up first so the server's CORS allowlist can name it.
  portal = http.createServer((request, response) => {
    const name = (request.url ?? '/').split('?')[0].slice(1) || 'index.html';
    const body = portalFiles[name];
    if (body === undefined) response.writeHead(404).end();
    else
      response
        .writeHead(200, {
          'content-type': name.endsWith('.html') ? 'text/html' : name.endsWith('.css') ? 'text/css' : 'text/javascript',
        })
        .end(body);
  });
  await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
  portalUrl = `http://127.0.0.1:${(portal.address() as net.AddressInfo).port}`;
  const tokenFile = path.join(dir, 'tokens.txt');
  await writeFile(tokenFile, `# viewer tokens\n${TOKEN}\n`);
  const { security } = await resolveServeSecurity({ authTokenFile: tokenFile, corsOrigin: [portalUrl] });
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION, WSI],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
    security,
  });
  browser = await launchChromium({ width: 1400, height: 900 });
}, TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (portal ? portal.close(resolve) : resolve(undefined)));
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface TileRequest {
  status: number;
  authorization: string;
  cacheControl: string;
}

/** The slide image tile requests a page makes, with their answers. */
function recordTiles(page: Page): TileRequest[] {
  const tiles: TileRequest[] = [];
  page.on('response', async (response) => {
    if (!/\/api\/slides\/[^/]+\/tiles\//.test(response.url())) return;
    const headers = await response.request().allHeaders();
    tiles.push({
      status: response.status(),
      authorization: headers.authorization ?? '',
      cacheControl: (await response.allHeaders())['cache-control'] ?? '',
    });
  });
  return tiles;
}

/**
 * Share of the sampled pixels of the map's own layer canvases (not the overview) that are neither white nor empty,
 * with every layer but the slide's image tiles hidden: the slide's image, not the polygons over it.
 */
function imagePixelShare(page: Page, mapExpression: string): Promise<number> {
  return page.evaluate((expression) => {
    const map = new Function(`return ${expression}`)() as any;
    for (const layer of map.getAllLayers()) if (!('getTileGrid' in (layer.getSource() ?? {}))) layer.setVisible(false);
    map.renderSync();
    let coloured = 0;
    let sampled = 0;
    for (const canvas of map
      .getViewport()
      .querySelectorAll(':scope > .ol-layers canvas') as NodeListOf<HTMLCanvasElement>) {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4 * 97) {
        sampled += 1;
        if (data[i + 3] > 0 && (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235)) coloured += 1;
      }
    }
    return sampled ? coloured / sampled : 0;
  }, mapExpression);
}

const signIn = (page: Page) => page.locator('glomseg-viewer glomseg-sign-in');

describe('<glomseg-viewer> on a token server', () => {
  it(
    'asks for a token, refuses a wrong one with a message, and with the right one streams polygons and loads the image tiles',
    async () => {
      const page = await browser.newPage();
      const tiles = recordTiles(page);
      await page.goto(`${app.httpUrl}/#slide=${encodeURIComponent(SLIDE)}`);
      await signIn(page).locator('[part=token]').waitFor({ timeout: 60_000 });

      await signIn(page).locator('[part=token]').fill('not-the-token');
      await signIn(page).locator('[part=submit]').click();
      await expect
        .poll(
          () =>
            signIn(page)
              .locator('[part=message]')
              .textContent()
              .catch(() => ''),
          { timeout: 30_000 },
        )
        .toMatch(/did not accept that token/);

      await signIn(page).locator('[part=token]').fill(TOKEN);
      await signIn(page).locator('[part=submit]').click();
      await page
        .waitForFunction(
          () => ((document.querySelector('glomseg-viewer') as any)?.overlay?.predictions.length ?? 0) > 0,
          null,
          { timeout: 150_000, polling: 500 },
        )
        .catch(async (error) => {
          const shown = await page.evaluate(
            () =>
              (document.querySelector('glomseg-viewer') as any)?.shadowRoot?.textContent +
              ' | ' +
              (document.querySelector('glomseg-viewer') as any)?.overlay?.shadowRoot?.querySelector('glomseg-panel')
                ?.shadowRoot?.textContent,
          );
          throw new Error(`${error}: ${shown.replace(/\s+/g, ' ')}`);
        });
      await page.waitForFunction(
        () =>
          (document.querySelector('glomseg-viewer') as any).map.getAllLayers()[0].getSource().getState() === 'ready',
        null,
        { timeout: 30_000 },
      );
      expect(await signIn(page).count()).toBe(0);
      await expect.poll(() => tiles.length, { timeout: 30_000 }).toBeGreaterThan(3);
      expect(
        tiles.every((t) => t.status === 200),
        JSON.stringify(tiles.slice(0, 3)),
      ).toBe(true);
      expect(new Set(tiles.map((t) => t.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
      // A token holder's tiles are not for shared caches.
      expect(new Set(tiles.map((t) => t.cacheControl))).toEqual(new Set(['private, max-age=3600']));
      await expect
        .poll(() => imagePixelShare(page, "document.querySelector('glomseg-viewer').map"), { timeout: 30_000 })
        .toBeGreaterThan(0.2);
      const errors = await page.locator('glomseg-viewer [part=error]').count();
      expect(errors).toBe(0);

      // Kept for the tab's session only: never in localStorage or the URL.
      const stored = await page.evaluate(() => ({
        session: JSON.stringify(sessionStorage),
        local: localStorage.length,
        url: location.href,
      }));
      expect(stored.session).toContain(TOKEN);
      expect(stored.local).toBe(0);
      expect(stored.url).not.toContain(TOKEN);

      // A reload of the same tab stays signed in.
      await page.reload();
      await page.waitForFunction(
        () =>
          ((document.querySelector('glomseg-viewer') as any)?.shadowRoot?.querySelectorAll('[part=slide-list] button')
            .length ?? 0) > 0,
        null,
        { timeout: 60_000 },
      );
      expect(await signIn(page).count()).toBe(0);

      // Another tab of the same browser profile does not have it.
      const other = await browser.newPage();
      await other.goto(`${app.httpUrl}/`);
      await signIn(other).locator('[part=token]').waitFor({ timeout: 60_000 });
      expect(await other.evaluate(() => sessionStorage.length)).toBe(0);
      await other.close();

      // Sign out: the form again, the token gone.
      await page.locator('glomseg-viewer [part=sign-out]').click();
      await signIn(page).locator('[part=token]').waitFor({ timeout: 10_000 });
      expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(TOKEN);
      expect(page.errors).toEqual([]);
      await page.close();
    },
    TIMEOUT,
  );
});

describe("plugin/README.md's portal page on a token server", () => {
  /** The README's index.html and main.js, the server URL and token replaced, bundled with the plugin's sources. */
  async function buildPortal(token: string): Promise<void> {
    const readme = await readFile(path.join(REPO_ROOT, 'plugin/README.md'), 'utf8');
    const block = (marker: string, lang: string) => {
      const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(readme.indexOf(marker)));
      expect(match, `README has a ${lang} block after ${marker}`).not.toBeNull();
      return match![1].replaceAll(PLACEHOLDER, app.httpUrl!);
    };
    const main = block('`main.js`:', 'js');
    expect(main).toContain("'your-session-token'");
    const entry = path.join(dir, 'main.js');
    await writeFile(entry, main.replace("'your-session-token'", JSON.stringify(token)));
    const bundle = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      loader: { '.css': 'text' },
      tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
      nodePaths: [path.join(REPO_ROOT, 'node_modules')],
      alias: { '@glomseg/plugin': path.join(REPO_ROOT, 'plugin/src/index.ts') },
      logLevel: 'warning',
    });
    portalFiles = {
      'index.html': block('`index.html`:', 'html'),
      // The README's page loads main.js, which Vite bundles itself; here esbuild's bundle is served in its place.
      'main.js': bundle.outputFiles[0].text,
      'node_modules/ol/ol.css': await readFile(path.join(REPO_ROOT, 'node_modules/ol/ol.css'), 'utf8'),
    };
  }

  it(
    'with the token provider: the image tiles answer 200 with the header, the map is not blank, polygons stream',
    async () => {
      await buildPortal(TOKEN);
      const page = await browser.newPage();
      const tiles = recordTiles(page);
      await page.goto(`${portalUrl}/`);
      await page.waitForFunction(() => (document.getElementById('glomseg') as any)?.predictions.length > 10, null, {
        timeout: 200_000,
        polling: 500,
      });
      await expect.poll(() => tiles.length, { timeout: 30_000 }).toBeGreaterThan(3);
      expect(
        tiles.every((t) => t.status === 200),
        JSON.stringify(tiles.slice(0, 3)),
      ).toBe(true);
      expect(new Set(tiles.map((t) => t.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
      await expect
        .poll(() => imagePixelShare(page, "document.getElementById('glomseg').map"), { timeout: 30_000 })
        .toBeGreaterThan(0.2);
      expect(await page.locator('#glomseg [part=error]').count()).toBe(0);
      expect(page.errors).toEqual([]);
      await page.close();
    },
    TIMEOUT,
  );

  it(
    'without a token: a clear error in the panel and glomseg-error events for the calls and the image tiles',
    async () => {
      await buildPortal('');
      // A browser of its own: another profile's HTTP cache holds the tiles the token fetched.
      const fresh = await launchChromium({ width: 1400, height: 900 });
      try {
        const page = await fresh.newPage();
        await page.addInitScript(() => {
          (window as any).glomsegErrors = [];
          addEventListener('glomseg-error', (event) =>
            (window as any).glomsegErrors.push((event as CustomEvent).detail),
          );
        });
        await page.goto(`${portalUrl}/`);
        await page.waitForFunction(
          () =>
            (window as any).glomsegErrors.some((e: { message: string }) => /image tiles do not load/.test(e.message)),
          null,
          { timeout: 60_000, polling: 250 },
        );
        const errors: Array<{ code: string; message: string }> = await page.evaluate(
          () => (window as any).glomsegErrors,
        );
        const tileError = errors.find((e) => /image tiles do not load/.test(e.message))!;
        expect(tileError.code).toBe('UNAUTHENTICATED');
        expect(tileError.message).toMatch(/HTTP 401: a valid bearer token is required/);
        await expect
          .poll(() => page.locator('#glomseg [part=error]').textContent(), { timeout: 30_000 })
          .toMatch(/token/);
        expect(page.errors).toEqual([]);
      } finally {
        await fresh.close();
      }
    },
    TIMEOUT,
  );
});
