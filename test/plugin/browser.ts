/** Debian's Chromium, headless, driven by playwright-core, in a fresh profile per launch. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** A new page that fails the test on uncaught page errors (collected in `errors`). */
  newPage(): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
}

export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  // A fresh --user-data-dir: playwright passes the folder of a persistent context as Chromium's profile.
  const profile = await mkdtemp(path.join(os.tmpdir(), 'glomseg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    async newPage() {
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on('pageerror', (error) => page.errors.push(error.message));
      return page;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A new Chromium on the viewer page that `httpUrl` serves, once the viewer's overlay has the slide's tile grid. */
export async function openViewerPage(
  httpUrl: string,
  viewport?: { width: number; height: number },
): Promise<{ browser: Browser; page: Page & { errors: string[] } }> {
  const browser = await launchChromium(viewport);
  const page = await browser.newPage();
  await page.goto(`${httpUrl}/`);
  await page.waitForFunction(() => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid, null, {
    timeout: 60_000,
  });
  return { browser, page };
}
