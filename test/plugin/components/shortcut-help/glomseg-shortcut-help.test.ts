/**
 * The keyboard help and the shortcuts behind it, in Debian's Chromium (issue 29): <glomseg-shortcut-help> lists the
 * registry it is given and says when it closes (Escape, Close, ?); KeyboardShortcutsController runs a shortcut's
 * key from anywhere in its host but a text box or button, and leaves a key whose shortcut did nothing (returned
 * false) to its usual meaning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, type Browser } from '../../browser.js';
import { openModulePage } from '../../fixtures/module-page.js';

let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  browser = await launchChromium({ width: 800, height: 600 });
  page = await openModulePage(browser, 'test/plugin/fixtures/components-page.ts', { width: 10, height: 10 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

const closes = (p: Page) =>
  p.evaluate(() =>
    (window as any).tools.events.filter((e: any) => e.type === 'glomseg-map-tool').map((e: any) => e.detail),
  );
const setOpen = (p: Page, open: boolean) =>
  p.evaluate(async (o) => {
    const { help, shortcuts } = (window as any).tools;
    help.shortcuts = shortcuts;
    help.open = o;
    await help.updateComplete;
  }, open);
const dialog = (p: Page) => p.locator('glomseg-shortcut-help [part=dialog]');

describe('<glomseg-shortcut-help>', () => {
  it('shows each shortcut with its keys, modal, and says it closed on Escape, on Close and on ?', async () => {
    await setOpen(page, true);
    expect(await dialog(page).isVisible()).toBe(true);
    expect(await dialog(page).locator('dt').allTextContents()).toEqual(['?', 'o', 'Enter', '+ -']);
    expect(await dialog(page).locator('dd').first().textContent()).toBe('Help');
    // Focus is inside the modal dialog.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('GLOMSEG-SHORTCUT-HELP');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog(page).isVisible()).toBe(false);
    expect(await closes(page)).toEqual([{ name: 'help', value: false }]);

    await setOpen(page, true);
    await dialog(page).locator('[part=close]').click();
    await expect.poll(() => closes(page)).toHaveLength(2);
    await setOpen(page, true);
    await page.keyboard.press('?');
    await expect.poll(() => closes(page)).toHaveLength(3);
    // The owner closes it by its property too, and it does not report that as the user's.
    await setOpen(page, true);
    await setOpen(page, false);
    expect(await dialog(page).isVisible()).toBe(false);
    expect(await closes(page)).toHaveLength(3);
  });
});

describe('KeyboardShortcutsController', () => {
  it("runs a shortcut's key from its host, not from a text box or button, and leaves keys it did nothing with", async () => {
    const ran = () => page.evaluate(() => [...(window as any).tools.ran]);
    await page.locator('shortcut-host #area').focus();
    await page.keyboard.press('o');
    await page.keyboard.press('Shift+?');
    expect(await ran()).toEqual(['outline', 'help']);
    await page.locator('shortcut-host #box').focus();
    await page.keyboard.press('o');
    expect(await page.locator('shortcut-host #box').inputValue()).toBe('o');
    await page.locator('shortcut-host #button').focus();
    await page.keyboard.press('o');
    await page.locator('shortcut-host #area').focus();
    await page.keyboard.press('Control+o');
    expect(await ran()).toEqual(['outline', 'help']);
    // Enter does something only while the ruler measures: otherwise its default is left alone.
    const enterPrevented = () =>
      page.evaluate(() => {
        const event = new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true, cancelable: true });
        document.querySelector('shortcut-host')!.shadowRoot!.querySelector('#area')!.dispatchEvent(event);
        return event.defaultPrevented;
      });
    expect(await enterPrevented()).toBe(false);
    await page.evaluate(() => (window as any).tools.setRuler(true));
    expect(await enterPrevented()).toBe(true);
    expect(await ran()).toEqual(['outline', 'help', 'finish']);
    expect(page.errors).toEqual([]);
  });
});
