/**
 * The per-slide cache on fake ports: a slide's survey and its scale estimates are made once, by whoever asks first,
 * shared by every caller, not kept when they fail, and stopped when the service closes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, paintedParts, SLIDE } from '../../helpers/painted-service.js';

afterEach(closeAll);

describe('surveys', () => {
  it('measures a slide once for all callers; one that gives up stops waiting, not the measurement', async () => {
    const { slideCache, slides, slide } = paintedParts();
    const source = await slides.open(SLIDE);
    const leaving = new AbortController();
    const left = slideCache.survey(source, leaving.signal);
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: 'CANCELLED' });
    const [a, b] = await Promise.all([
      slideCache.survey(source),
      slideCache.survey(source, new AbortController().signal),
    ]);
    expect(a).toBe(b);
    expect(a.stain).toBeDefined();
    expect(a.tissue).toBeDefined();
    const reads = slide.reads.length;
    expect(reads).toBeGreaterThan(0);
    await slideCache.survey(source);
    expect(slide.reads).toHaveLength(reads);
  });

  it('keeps no failed survey: the next caller measures again', async () => {
    const { slideCache, slides } = paintedParts();
    const source = await slides.open(SLIDE);
    const failing = { ...source, readRegion: async () => Promise.reject(new Error('the disk went away')) };
    await expect(slideCache.survey(failing)).rejects.toThrow('the disk went away');
    await expect(slideCache.survey(source)).resolves.toMatchObject({ level: 0 });
  });
});

describe('scale estimates', () => {
  it('makes none when the request or the file gives a pixel size', async () => {
    const { slideCache, slides, segmenter } = paintedParts();
    const withFile = await slides.open(SLIDE);
    expect(await slideCache.scaleEstimate(withFile, segmenter.card, undefined)).toBeUndefined();
    const unknown = paintedParts({ slide: { mpp: undefined } });
    expect(
      await unknown.slideCache.scaleEstimate(await unknown.slides.open(SLIDE), unknown.segmenter.card, 0.5),
    ).toBeUndefined();
    expect(segmenter.calls).toHaveLength(0);
    expect(unknown.segmenter.calls).toHaveLength(0);
  });

  it('estimates a slide without a pixel size once per slide and model, with trial runs on the model', async () => {
    const { slideCache, slides, segmenter } = paintedParts({ slide: { mpp: undefined } });
    const source = await slides.open(SLIDE);
    const [first, second] = await Promise.all([
      slideCache.scaleEstimate(source, segmenter.card, undefined),
      slideCache.scaleEstimate(source, segmenter.card, undefined),
    ]);
    expect(first).toBe(second);
    const trials = segmenter.calls.length;
    expect(trials).toBeGreaterThan(0);
    await slideCache.scaleEstimate(source, segmenter.card, undefined);
    expect(segmenter.calls).toHaveLength(trials);
  });

  it('stops an estimate still running when closed', async () => {
    const { slideCache, slides, segmenter } = paintedParts({ slide: { mpp: undefined } });
    segmenter.hold();
    const estimate = slideCache.scaleEstimate(await slides.open(SLIDE), segmenter.card, undefined);
    const trial = await segmenter.started(1);
    slideCache.close();
    await expect(estimate).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(trial.state).toBe('aborted');
  });
});
