/**
 * <glomseg-viewer> as a pathologist uses it, in Debian's Chromium at 1600 x 1000: switching slides, a slide whose
 * file records no pixel size, the sliders' keyboard, the legend. Real server, real slides, real model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { GlomsegApp } from '../../../../server/src/app.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, MODELS } from '../../../helpers/paths.js';
import { openViewerPage, type Browser } from '../../browser.js';

const QUARTER = 'kidney-region-quarter.tif';
const FULL = 'kidney-region.tif';
const TIMEOUT = 240_000;
/** Opening a slide needs two small calls (GetSlideInfo, ListModels), no inference. */
const SWITCH_TIMEOUT = 30_000;

let app: GlomsegApp;
let browser: Browser;
let page: Page & { errors: string[] };

beforeAll(async () => {
  app = await GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
  });
  ({ browser, page } = await openViewerPage(app.httpUrl!, { width: 1600, height: 1000 }));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** What the viewer shows now: the open slide's info, the overlay's grid and whether the map has a view centre. */
function viewerState(p: Page) {
  return p.evaluate(() => {
    const viewer = document.querySelector('glomseg-viewer') as any;
    const view = viewer.map.getView();
    return {
      info: viewer.shadowRoot.querySelector('[part=slide-info] h3')?.textContent ?? '',
      gridSlide: viewer.overlay.grid?.slideId ?? '',
      centred: view.isDef(),
      layers: viewer.map.getLayers().getLength(),
    };
  });
}

/** Clicks a slide in the list by its id (the list shows names without the extension, each button titled with its id). */
async function openFromList(p: Page, id: string): Promise<void> {
  await p.locator(`glomseg-viewer [part=slide-list] button[title="${id}"]`).click();
}

describe('<glomseg-viewer>', () => {
  it(
    "switches to another slide from the list and back again, leaving the first slide's annotations behind",
    async () => {
      const first = await viewerState(page);
      const truth = JSON.stringify({
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { objectType: 'annotation' },
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [100, 100],
                  [300, 100],
                  [300, 300],
                  [100, 100],
                ],
              ],
            },
          },
        ],
      });
      await page.evaluate(
        (text) =>
          (document.querySelector('glomseg-viewer') as any).overlay.loadAnnotations(text, { name: 'truth.geojson' }),
        truth,
      );
      expect(await page.locator('glomseg-overlay [part=annotations]').textContent()).toContain('truth.geojson');
      const other = first.gridSlide === QUARTER ? FULL : QUARTER;
      for (const target of [other, first.gridSlide]) {
        await openFromList(page, target);
        await page
          .waitForFunction(
            (id) => {
              const viewer = document.querySelector('glomseg-viewer') as any;
              return (
                viewer.overlay.grid?.slideId === id &&
                viewer.shadowRoot.querySelector('[part=slide-info] h3')?.textContent === id
              );
            },
            target,
            { timeout: SWITCH_TIMEOUT },
          )
          .catch((error) => {
            throw new Error(
              `the viewer did not switch to ${target} (page errors: ${page.errors.join('; ') || 'none'}): ${error}`,
            );
          });
        const state = await viewerState(page);
        expect(state.centred).toBe(true);
        expect(state.info).toBe(target);
        expect(await page.locator('glomseg-overlay [part=annotations]').textContent()).not.toContain('truth.geojson');
        expect(
          await page.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.metrics),
        ).toBeUndefined();
      }
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'says that the quarter-scale slide records no pixel size, which one it assumed, and what to do',
    async () => {
      // The shipped model's card turns the image-based estimate off (it is scale-robust): the training scale is used.
      await openFromList(page, QUARTER);
      const note = page.locator('glomseg-overlay [part=scale-note]');
      await expect.poll(() => note.getAttribute('data-source'), { timeout: SWITCH_TIMEOUT }).toBe('model-default');
      expect(await note.textContent()).toMatch(/does not record its pixel size.*assume 0\.50 µm\/px.*Pixel size box/);
      await expect
        .poll(() => page.locator('glomseg-viewer [part=slide-info]').textContent(), { timeout: SWITCH_TIMEOUT })
        .toMatch(/0\.500 µm\/px \(not in the file: assumed by the model\)/);
      // The full-resolution region records no pixel size either; it is read at the model's own 0.5 um/px too.
      await openFromList(page, FULL);
      await expect
        .poll(() => page.locator('glomseg-viewer [part=slide-info]').textContent(), { timeout: SWITCH_TIMEOUT })
        .toMatch(/0\.500 µm\/px \(not in the file/);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it('keeps the progress bar full width while streaming', async () => {
    const widths = await page.evaluate(() => {
      const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
      const status = overlay.shadowRoot.querySelector('[part=status]');
      return {
        bar: status.querySelector('progress').getBoundingClientRect().width,
        status: status.getBoundingClientRect().width,
      };
    });
    expect(widths.bar).toBeGreaterThan(widths.status * 0.9);
  });

  it('moves its sliders with the keyboard without panning or zooming the map; the focused map still pans and zooms', async () => {
    const view = () =>
      page.evaluate(() => {
        const v = (document.querySelector('glomseg-viewer') as any).map.getView();
        return { center: v.getCenter(), resolution: v.getResolution() };
      });
    const before = await view();
    const opacity = page.locator('glomseg-overlay [part=controls] input[type=range]').nth(1);
    await opacity.focus();
    const value = Number(await opacity.inputValue());
    for (const key of ['ArrowLeft', 'ArrowDown', '-']) await page.keyboard.press(key);
    expect(Number(await opacity.inputValue())).toBeLessThan(value);
    expect(await view()).toEqual(before);
    // The map shows the whole slide, as far out as it zooms: the focused map zooms in.
    await page.locator('glomseg-viewer [part=map]').focus();
    await page.keyboard.press('+');
    await expect.poll(async () => (await view()).resolution, { timeout: 5000 }).toBeLessThan(before.resolution);
  });

  it('shows the cursor read-out inside its box and the whole slide large in the overview', async () => {
    const box = await page.locator('glomseg-viewer [part=map]').boundingBox();
    await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2);
    await page.mouse.move(box!.x + box!.width / 2 + 5, box!.y + box!.height / 2 + 5);
    const fit = await page.evaluate(() => {
      const root = (document.querySelector('glomseg-viewer') as any).shadowRoot;
      const outer = root.querySelector('[part=cursor]').getBoundingClientRect();
      const inner = root.querySelector('[part=cursor] .ol-mouse-position').getBoundingClientRect();
      return { outer: outer.toJSON(), inner: inner.toJSON(), text: root.querySelector('[part=cursor]').textContent };
    });
    expect(fit.text).toMatch(/x \d+\s+y \d+ px/);
    expect(fit.inner.left).toBeGreaterThanOrEqual(fit.outer.left);
    expect(fit.inner.right).toBeLessThanOrEqual(fit.outer.right + 0.5);
    expect(fit.inner.top).toBeGreaterThanOrEqual(fit.outer.top);
    expect(fit.inner.bottom).toBeLessThanOrEqual(fit.outer.bottom + 0.5);

    const overview = await page.evaluate(async () => {
      const viewer = document.querySelector('glomseg-viewer') as any;
      const control = viewer.map
        .getControls()
        .getArray()
        .find((c: any) => c.getOverviewMap);
      const map = control.getOverviewMap();
      map.renderSync();
      const [w, h] = map.getSize();
      const slide = viewer.overlay.grid;
      const a = map.getPixelFromCoordinate([0, 0]);
      const b = map.getPixelFromCoordinate([slide.slideWidth, -slide.slideHeight]);
      return { box: [w, h], slide: [Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1])] };
    });
    // The slide fills its box along one side (it was a thumbnail a quarter of the box wide).
    expect(Math.max(overview.slide[0] / overview.box[0], overview.slide[1] / overview.box[1])).toBeGreaterThan(0.85);
    expect(overview.slide[0]).toBeLessThanOrEqual(overview.box[0] + 1);
  });

  it('puts the slide and view in a link that opens the same place', async () => {
    await expect.poll(() => page.evaluate(() => location.hash), { timeout: 5000 }).toContain('slide=');
    const here = await page.evaluate(() => {
      const view = (document.querySelector('glomseg-viewer') as any).map.getView();
      view.setCenter([1234, -987]);
      return { hash: location.hash };
    });
    await expect
      .poll(() => page.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('x')), { timeout: 5000 })
      .toBe('1234');
    const link = await page.evaluate(() => location.href);
    const other = await browser.newPage();
    await other.goto(link);
    await other.waitForFunction(() => (document.querySelector('glomseg-viewer') as any)?.overlay?.grid, null, {
      timeout: 60_000,
    });
    const opened = await other.evaluate(() => {
      const viewer = document.querySelector('glomseg-viewer') as any;
      return { slide: viewer.overlay.grid.slideId, center: viewer.map.getView().getCenter() };
    });
    expect(here.hash).toContain('slide=');
    expect(opened.slide).toBe(new URLSearchParams(new URL(link).hash.slice(1)).get('slide'));
    expect(opened.center).toEqual([1234, -987]);
    await other.close();
  });

  it('explains every colour and line style in a legend, and says that annotations off the slide are left out, as glomseg score does', async () => {
    const legend = await page.locator('glomseg-overlay [part=legend] li').allTextContents();
    expect(legend.join('\n')).toMatch(
      /not scored yet[\s\S]*Ground truth[\s\S]*True positive[\s\S]*False positive[\s\S]*Missed/,
    );
    const offSlide = JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: {},
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [100, 100],
                [300, 100],
                [300, 300],
                [100, 100],
              ],
            ],
          },
        },
        {
          type: 'Feature',
          properties: {},
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [40000, 100],
                [40300, 100],
                [40300, 300],
                [40000, 100],
              ],
            ],
          },
        },
      ],
    });
    await page.evaluate(
      (text) =>
        (document.querySelector('glomseg-viewer') as any).overlay.loadAnnotations(text, {
          name: 'other-slide.geojson',
        }),
      offSlide,
    );
    await expect
      .poll(() => page.locator('glomseg-overlay [part=annotations-warning]').textContent(), { timeout: 5000 })
      .toMatch(
        /1 of 2 ground-truth shapes lies wholly outside the slide and is left out \(the slide is \d+ x \d+ pixels\)/,
      );
    await page.evaluate(() => (document.querySelector('glomseg-viewer') as any).overlay.clearAnnotations());
  });

  it(
    'sends no glomseg-dice event before a tile is scored',
    async () => {
      await page.evaluate(() => {
        (window as any).__dice = [];
        document.addEventListener('glomseg-dice', (e: any) => (window as any).__dice.push(e.detail));
      });
      const truth = JSON.stringify({
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: {},
            geometry: {
              type: 'Polygon',
              coordinates: [
                [
                  [100, 100],
                  [300, 100],
                  [300, 300],
                  [100, 100],
                ],
              ],
            },
          },
        ],
      });
      // Annotations loaded while the full-resolution slide opens (35 tiles, so they come after the annotations): the
      // scorer starts before any of its tiles arrive.
      if ((await viewerState(page)).gridSlide === FULL) await openFromList(page, QUARTER);
      await openFromList(page, FULL);
      await page.evaluate(
        (text) =>
          (document.querySelector('glomseg-viewer') as any).overlay.loadAnnotations(text, { name: 'early.geojson' }),
        truth,
      );
      await page.waitForFunction(() => (window as any).__dice.length > 0, null, { timeout: TIMEOUT });
      const dice = await page.evaluate(() => (window as any).__dice);
      expect(dice.every((d: any) => d.tilesScored > 0)).toBe(true);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'cuts again at a new threshold: no new session, no re-inference, the map never emptied',
    async () => {
      // The full-resolution region: read at the model's scale, it has glomeruli everywhere (the quarter-scale slide,
      // truly 2 um/px and recording no pixel size, is read at 0.5 um/px unless told: see the scale-note test).
      if ((await viewerState(page)).gridSlide !== FULL) await openFromList(page, FULL);
      await page.waitForFunction(
        (id) => {
          const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
          return overlay.grid?.slideId === id && overlay.modelCard !== undefined;
        },
        FULL,
        { timeout: TIMEOUT, polling: 100 },
      );
      const complete = () =>
        page.waitForFunction(
          () => {
            const status = (document.querySelector('glomseg-viewer') as any).overlay.shadowRoot.querySelector(
              '[part=status]',
            );
            return (
              status.dataset.streaming === 'false' &&
              Number(status.dataset.total) > 0 &&
              status.dataset.received === status.dataset.total
            );
          },
          null,
          { timeout: TIMEOUT, polling: 100 },
        );
      await complete();
      const calls: string[] = [];
      page.on('request', (request) => calls.push(new URL(request.url()).pathname));
      const computed = app.service.stats().tilesComputed;
      const counts = await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        const layer = viewer.map
          .getLayers()
          .getArray()
          .find((l: any) => l.get('name') === 'glomseg-predictions');
        const source = layer.getSource();
        const seen: number[] = [source.getFeatures().length];
        (window as any).__featureCounts = seen;
        source.on(['addfeature', 'removefeature', 'clear'], () => seen.push(source.getFeatures().length));
        const card = viewer.overlay.modelCard.threshold;
        viewer.overlay.threshold = Math.round((card > 0.5 ? card - 0.2 : card + 0.2) * 100) / 100;
        return { before: seen[0] };
      });
      await complete();
      const seen: number[] = await page.evaluate(() => (window as any).__featureCounts);
      expect(counts.before).toBeGreaterThan(10);
      expect(Math.min(...seen)).toBeGreaterThan(0);
      expect(calls.filter((p) => /GetSlideInfo|ListModels/.test(p))).toEqual([]);
      expect(calls.some((p) => p.endsWith('/StreamTiles'))).toBe(true);
      expect(app.service.stats().tilesComputed).toBe(computed);
      const unique = await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        const layer = viewer.map
          .getLayers()
          .getArray()
          .find((l: any) => l.get('name') === 'glomseg-predictions');
        const features = layer.getSource().getFeatures();
        return {
          features: features.length,
          stale: features.filter((f: any) => f.get('stale')).length,
          predictions: viewer.overlay.predictions.length,
        };
      });
      expect(unique.stale).toBe(0);
      expect(unique.predictions).toBe(unique.features);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'starts streaming during a fling (or any animation), before it ends',
    async () => {
      // Tiles of a scale not used before, so the destination's tiles are missing; zoomed in at the top-left corner.
      if ((await viewerState(page)).gridSlide !== FULL) {
        await openFromList(page, FULL);
        await page.waitForFunction(
          (id) => (document.querySelector('glomseg-viewer') as any).overlay.grid?.slideId === id,
          FULL,
          { timeout: TIMEOUT },
        );
      }
      await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        viewer.overlay.mppOverride = 0.48;
      });
      await page.waitForFunction(
        () => (document.querySelector('glomseg-viewer') as any).overlay.grid?.mppSource === 'request',
        null,
        { timeout: TIMEOUT },
      );
      await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        const view = viewer.map.getView();
        const size = viewer.map.getSize();
        const resolution = (1.5 * viewer.overlay.grid.tileSizeLevel0) / size[1];
        view.setResolution(resolution);
        view.setCenter([(size[0] / 2) * resolution, (-size[1] / 2) * resolution]);
      });
      await page.waitForFunction(
        () => {
          const status = (document.querySelector('glomseg-viewer') as any).overlay.shadowRoot.querySelector(
            '[part=status]',
          );
          return (
            status.dataset.streaming === 'false' &&
            Number(status.dataset.total) > 0 &&
            status.dataset.received === status.dataset.total
          );
        },
        null,
        { timeout: TIMEOUT, polling: 100 },
      );
      await page.evaluate(() => {
        const w = window as any;
        const viewer = document.querySelector('glomseg-viewer') as any;
        w.__fling = { moveend: 0, streamOpened: 0, animating: false, before: viewer.overlay.streamStats };
        viewer.map.once('moveend', () => {
          w.__fling.moveend = performance.now();
          w.__fling.after = viewer.overlay.streamStats;
        });
        viewer.overlay.addEventListener('glomseg-progress', (e: any) => {
          if (e.detail.streaming && !w.__fling.streamOpened) {
            w.__fling.streamOpened = performance.now();
            w.__fling.animating = viewer.map.getView().getAnimating();
          }
        });
      });
      // What OpenLayers' DragPan does on release after a quick drag (its kinetic fling): an eased animation of the
      // centre. Started here directly: a real mouse fling depends on how fast this machine delivers the moves.
      await page.evaluate(() => {
        const view = (document.querySelector('glomseg-viewer') as any).map.getView();
        const [x, y] = view.getCenter();
        const resolution = view.getResolution();
        view.animate({
          center: [x + 700 * resolution, y - 500 * resolution],
          duration: 800,
          easing: (t: number) => 1 - (1 - t) ** 3,
        });
      });
      await page
        .waitForFunction(() => (window as any).__fling.moveend > 0 && (window as any).__fling.streamOpened > 0, null, {
          timeout: 30_000,
        })
        .catch(async (error) => {
          throw new Error(`${error}: ${JSON.stringify(await page.evaluate(() => (window as any).__fling))}`);
        });
      const fling = await page.evaluate(() => (window as any).__fling);
      expect(fling.animating, 'the stream opened while the fling was still running').toBe(true);
      // The fling's own frames asked for the tiles coming into view (no settle timer, no look at where it will stop).
      expect(fling.after.opened).toBeGreaterThan(fling.before.opened);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "shows the size distribution, the count per mm², and a polygon's measurements under the pointer",
    async () => {
      await page.waitForFunction(
        () => {
          const status = (document.querySelector('glomseg-viewer') as any).overlay.shadowRoot.querySelector(
            '[part=status]',
          );
          return (
            status.dataset.streaming === 'false' &&
            Number(status.dataset.polygons) > 0 &&
            status.dataset.received === status.dataset.total
          );
        },
        null,
        { timeout: TIMEOUT, polling: 100 },
      );
      const sizes = await page.evaluate(() => {
        const root = (document.querySelector('glomseg-viewer') as any).overlay.shadowRoot;
        return {
          bars: root.querySelectorAll('[part=histogram] svg rect').length,
          density: Number(root.querySelector('[part=density]')?.dataset.value),
          text: root.querySelector('[part=sizes]')?.textContent,
        };
      });
      expect(sizes.bars).toBeGreaterThan(5);
      expect(sizes.density).toBeGreaterThan(0);
      // Per mm² of the tissue the server measured on each tile (less than the area predicted: the region has background).
      expect(sizes.text).toMatch(/glomeruli per mm² of tissue \(\d+\.\d\d mm²\)/);

      const target = await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        const polygon = viewer.overlay.predictions.reduce((a: any, b: any) => (b.area > a.area ? b : a));
        const n = polygon.exterior.length;
        const x = polygon.exterior.reduce((sum: number, p: number[]) => sum + p[0], 0) / n;
        const y = polygon.exterior.reduce((sum: number, p: number[]) => sum + p[1], 0) / n;
        viewer.map.getView().setCenter([x, -y]);
        viewer.map.renderSync();
        return viewer.map.getPixelFromCoordinate([x, -y]);
      });
      const box = (await page.locator('glomseg-viewer [part=map]').boundingBox())!;
      await page.mouse.move(box.x + target[0] + 1, box.y + target[1] + 1);
      await page.mouse.move(box.x + target[0], box.y + target[1]);
      await expect
        .poll(() => page.locator('glomseg-viewer .glomseg-measurements').textContent(), { timeout: 5000 })
        .toMatch(/Glomerulus \(predicted\) · [\d,]+ µm² · mean probability 0\.\d\d/);
      await page.screenshot({ path: 'test-results/viewer-sizes-measurements.png' });
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'scores the tiles already received in slices between frames when annotations arrive late, not in one frozen go',
    async () => {
      // The whole full-resolution region received first (its 35 model tiles of 1024² level-0 pixels each).
      if ((await viewerState(page)).gridSlide !== FULL) await openFromList(page, FULL);
      await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        viewer.overlay.mppOverride = 0;
        viewer.overlay.clearAnnotations();
      });
      await page.waitForFunction(
        (id) => {
          const grid = (document.querySelector('glomseg-viewer') as any).overlay.grid;
          return grid?.slideId === id && grid.mppSource === 'model-default';
        },
        FULL,
        { timeout: TIMEOUT },
      );
      await page.evaluate(() => {
        const viewer = document.querySelector('glomseg-viewer') as any;
        viewer.map.getView().fit([0, -4800, 6400, 0]);
      });
      await page.waitForFunction(
        () => {
          const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
          const status = overlay.shadowRoot.querySelector('[part=status]');
          return (
            !!overlay.grid &&
            status.dataset.streaming === 'false' &&
            overlay.streamStats.tilesReceived === overlay.grid.cols * overlay.grid.rows
          );
        },
        null,
        { timeout: TIMEOUT, polling: 100 },
      );
      const truth = await readFile(KIDNEY_REGION_GEOJSON, 'utf8');
      const result = await page.evaluate(async (text) => {
        const overlay = (document.querySelector('glomseg-viewer') as any).overlay;
        const total = overlay.grid.cols * overlay.grid.rows;
        // Frames the page drew between the annotations arriving and the last tile scored: none when all the tiles are
        // scored in one go (the page is frozen for all of it).
        let frames = 0;
        let counting = true;
        const tick = () => {
          if (!counting) return;
          frames++;
          requestAnimationFrame(tick);
        };
        const dice = new Promise<any>((resolve) =>
          overlay.addEventListener('glomseg-dice', (e: any) => {
            if (e.detail.tilesScored === total) {
              counting = false;
              resolve(e.detail);
            }
          }),
        );
        requestAnimationFrame(tick);
        await overlay.loadAnnotations(text, { name: 'kidney-region.geojson' });
        const metrics = await dice;
        return { frames, globalDice: metrics.globalDice };
      }, truth);
      expect(result.frames, 'frames drawn while the received tiles were scored').toBeGreaterThan(0);
      expect(result.globalDice).toBeGreaterThan(0.8);
      // The per-tile figure says what it is, in words.
      const label = await page
        .locator('glomseg-overlay [part=dice] tr', { has: page.locator('[part=dice-mean-tile]') })
        .textContent();
      expect(label).toMatch(/Mean Dice per 1600 × 1200 px square \(16 squares\)/);
      expect(page.errors).toEqual([]);
    },
    TIMEOUT,
  );
});
