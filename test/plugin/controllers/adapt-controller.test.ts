/**
 * The overlay's model picker and Adapt button in Debian's Chromium against a real server: the picker lists the
 * server's models (ListModels) with the default marked, and choosing one is the overlay's model; Adapt on a server
 * that keeps adapting for token holders, and has no tokens, is refused in words (the server's reason, what to do).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { GlomsegApp } from '../../../server/src/app.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { openViewerPage, type Browser } from '../browser.js';

let app: GlomsegApp;
let dataDir: string;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-adapt-ui-'));
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
    dataDir,
  });
  ({ browser, page } = await openViewerPage(app.httpUrl!));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it("lists the server's models to pick from, and says why an adaptation is refused", async () => {
  const errors: unknown[] = [];
  await page.exposeFunction('onGlomsegError', (detail: unknown) => errors.push(detail));
  await page.evaluate(() =>
    document.addEventListener('glomseg-error', (e) => (window as any).onGlomsegError((e as CustomEvent).detail)),
  );
  const picker = page.locator('glomseg-overlay [part=model-picker]');
  expect(await picker.count()).toBe(0); // shown while correcting only
  await page.locator('glomseg-overlay [part=editing-toggle]').click();
  await expect
    .poll(() => picker.locator('option').allTextContents())
    .toEqual(expect.arrayContaining([expect.stringMatching(/· glomseg-unet \(default\)$/)]));
  const ids = await picker
    .locator('option')
    .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
  expect(ids).toContain('glomseg-unet');
  await picker.selectOption('glomseg-unet');
  expect(await page.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.model)).toBe(
    'glomseg-unet',
  );

  await page.locator('glomseg-overlay [part=adapt]').click();
  const refusal = page.locator('glomseg-overlay [part=adapt-error]');
  await expect
    .poll(() => refusal.textContent(), { timeout: 30_000 })
    .toMatch(/Not adapted: .*needs a token.*--auth-token-file.*--adapt open/s);
  expect(errors).toEqual([expect.objectContaining({ code: 'UNAUTHENTICATED' })]);
  expect(await page.locator('glomseg-overlay [part=adapt]').isEnabled()).toBe(true);
  expect(page.errors).toEqual([]);
}, 300_000);
