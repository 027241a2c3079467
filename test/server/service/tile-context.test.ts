/**
 * Context resolution on fake ports: the model's grid on a slide and its scale, the cut every tile of a request gets
 * (the threshold asked for, else the card's), and how tiles are read (stain mapping, tissue map).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelCard } from '@glomseg/shared/model-card.js';
import { GLASS, tissueColour } from '../../helpers/fake-ports.js';
import {
  closeAll,
  contextOf,
  failureOf,
  paintedParts,
  SLIDE,
  streamOf,
  streamSorted,
} from '../../helpers/painted-service.js';

afterEach(closeAll);

describe('the cut', () => {
  it("is the card's threshold when the request sets none, and the request's when it does", async () => {
    const { contexts } = paintedParts({
      card: { threshold: 0.4, minArea: 30, seedThreshold: 0.95, requireCore: true },
    });
    expect((await contextOf(contexts)).cut).toEqual({
      threshold: 0.4,
      minArea: 30,
      seedThreshold: 0.95,
      requireCore: true,
    });
    expect((await contextOf(contexts, { threshold: 0.75 })).cut.threshold).toBe(0.75);
  });

  it('holds the minimum area in level-0 pixels of this slide', async () => {
    // A card trained on 0.5 um/px slides (1 um/px, downsample 2), on a 0.25 um/px slide: twice the pixels each way.
    const { contexts } = paintedParts({ card: { mpp: 1, minArea: 30, downsample: 2 }, slide: { mpp: 0.25 } });
    const context = await contextOf(contexts);
    expect(context.grid.scale).toBe(4);
    expect(context.cut.minArea).toBe(120);
  });
});

describe('the grid', () => {
  it('reads a slide without a pixel size at the training scale, without trial runs, when the card says the estimate cannot work', async () => {
    const { contexts, slides, segmenter } = paintedParts({
      card: { estimatesScale: false, mpp: 0.5 },
      slide: { mpp: undefined },
    });
    const source = await slides.open(SLIDE);
    const grid = await contexts.gridOf(source, segmenter.card, undefined);
    expect(grid).toMatchObject({ mppSource: 'model-default', mppAssumed: 0.5 });
    expect(segmenter.calls).toHaveLength(0);
  });

  it("takes the pixel size a request gives over the file's", async () => {
    const { contexts, slides, segmenter } = paintedParts();
    const grid = await contexts.gridOf(await slides.open(SLIDE), segmenter.card, 0.25);
    expect(grid).toMatchObject({ mppSource: 'request', mppAssumed: 0.25 });
    expect(segmenter.calls).toHaveLength(0);
  });
});

describe('stain normalisation', () => {
  // A card trained with Reinhard against PAS-like statistics, far from the painted slide's pale green tissue.
  const reinhardCard: Partial<ModelCard> = {
    stain: { method: 'reinhard', reference: { mean: [47, 36, -28], std: [10, 10, 7] } },
  };
  const tileOff = [{ col: 0, row: 0 }];

  it("'auto' maps every tile from the slide's statistics to the card's reference; 'off' leaves the pixels as they are", async () => {
    const { parts, segmenter } = paintedParts({ card: reinhardCard, slide: { discs: [] } });
    await streamSorted(parts, { tiles: tileOff, stainNormalization: 'off' });
    await streamSorted(parts, { tiles: [{ col: 1, row: 0 }] });
    const [off, auto] = segmenter.calls.map((c) => c.centre);
    expect(off).toEqual(tissueColour(0));
    // Mapped towards the reference's magenta: red above green, which the painted tissue never is.
    expect(auto[0]).toBeGreaterThan(auto[1] + 20);
  });

  it("'auto' reads a slide with too little tissue to measure as it is; a method asked for by name is refused", async () => {
    const { parts, segmenter } = paintedParts({ card: reinhardCard, slide: { discs: [], tissue: () => false } });
    const auto = await streamSorted(parts, { tiles: tileOff, includeBackground: true });
    expect(auto).toHaveLength(1);
    expect(segmenter.calls[0].centre).toEqual(GLASS);
    const named = await failureOf(
      streamOf(parts, { tiles: tileOff, includeBackground: true, stainNormalization: 'reinhard' }),
    );
    expect(named).toBeInstanceOf(GlomsegError);
    expect((named as GlomsegError).code).toBe('FAILED_PRECONDITION');
    expect((named as GlomsegError).message).toMatch(/too little tissue.*'off'/);
    expect(segmenter.calls).toHaveLength(1);
  });

  it('reads tiles as they are, surveying nothing, when neither a mapping nor background skipping is asked for', async () => {
    const { contexts, slide } = paintedParts({ card: reinhardCard });
    const context = await contextOf(contexts, { stainNormalization: 'off', includeBackground: true });
    expect(context).toMatchObject({ stain: undefined, tissue: undefined, skipBackground: false });
    expect(slide.reads).toEqual([]);
  });
});
