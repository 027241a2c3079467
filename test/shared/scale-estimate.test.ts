import { describe, expect, it } from 'vitest';
import { GLOMERULUS_AREA_UM2, objectSureness, pickScale, scaleNote } from '@glomseg/shared/scale-estimate.js';

describe('pickScale', () => {
  it('takes the candidate with the most sure, whole glomeruli per tile, with how clearly it wins', () => {
    const estimate = pickScale([
      { mpp: 0.5, tiles: 4, sureness: 0 },
      { mpp: 1, tiles: 8, sureness: 1 },
      { mpp: 2, tiles: 8, sureness: 8 },
      { mpp: 4, tiles: 8, sureness: 4 },
    ]);
    expect(estimate.mpp).toBe(2);
    expect(estimate.confidence).toBeCloseTo(0.5, 10);
  });

  it('gives no estimate when no candidate finds glomeruli (not kidney, or no tissue)', () => {
    expect(pickScale([{ mpp: 1, tiles: 8, sureness: 1 }, { mpp: 2, tiles: 8, sureness: 0.5 }])).toMatchObject({ mpp: 0, confidence: 0 });
    expect(pickScale([])).toMatchObject({ mpp: 0, confidence: 0 });
  });

  it('counts fragments (far smaller than a glomerulus at that scale) for less than whole glomeruli', () => {
    expect(objectSureness(0.9, GLOMERULUS_AREA_UM2 * 2)).toBeCloseTo(0.9, 10);
    expect(objectSureness(0.9, GLOMERULUS_AREA_UM2 / 4)).toBeCloseTo(0.225, 10);
  });
});

describe('scaleNote', () => {
  it('says what was assumed and what to do, only when the file and the request said nothing', () => {
    expect(scaleNote({ mppSource: 'file', mppAssumed: 0.5 })).toBe('');
    expect(scaleNote({ mppSource: 'request', mppAssumed: 2 })).toBe('');
    expect(scaleNote({ mppSource: 'estimated', mppAssumed: 2, mppConfidence: 0.46 })).toMatch(/estimated 2\.00 µm\/px from the image \(confidence 46%\).*--mpp/);
    expect(scaleNote({ mppSource: 'model-default', mppAssumed: 0.5 })).toMatch(/no usable estimate.*0\.50 µm\/px.*--mpp/);
  });
});
