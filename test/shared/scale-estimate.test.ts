import { describe, expect, it } from 'vitest';
import {
  EMPTY_TISSUE_MM2,
  GLOMERULUS_AREA_UM2,
  objectSureness,
  pickScale,
  scaleNote,
  scaleNoteLevel,
} from '@glomseg/shared/scale-estimate.js';

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
    expect(
      pickScale([
        { mpp: 1, tiles: 8, sureness: 1 },
        { mpp: 2, tiles: 8, sureness: 0.5 },
      ]),
    ).toMatchObject({ mpp: 0, confidence: 0 });
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
    expect(scaleNote({ mppSource: 'estimated', mppAssumed: 2, mppConfidence: 0.46 })).toMatch(
      /estimated 2\.00 µm\/px from the image \(confidence 46%\).*--mpp/,
    );
    expect(scaleNote({ mppSource: 'model-default', mppAssumed: 0.5 })).toMatch(
      /no usable estimate.*0\.50 µm\/px.*--mpp/,
    );
    expect(scaleNote({ mppSource: 'model-default', mppAssumed: 0.5 })).toMatch(/Pixel size box/);
  });
});

describe('scaleNoteLevel', () => {
  const found = { glomeruli: 12, tissueMm2: 3 };
  it('is silent where the file or the request gave the pixel size', () => {
    expect(scaleNoteLevel({ mppSource: 'file' }, found)).toBe('');
    expect(scaleNoteLevel({ mppSource: 'request' }, { glomeruli: 0, tissueMm2: 10 })).toBe('');
  });

  it('is quiet where the assumed or surely estimated scale finds glomeruli, or too little tissue was seen to tell', () => {
    expect(scaleNoteLevel({ mppSource: 'model-default' }, found)).toBe('quiet');
    expect(scaleNoteLevel({ mppSource: 'estimated', mppConfidence: 0.8 }, found)).toBe('quiet');
    expect(scaleNoteLevel({ mppSource: 'model-default' }, { glomeruli: 0, tissueMm2: EMPTY_TISSUE_MM2 / 2 })).toBe(
      'quiet',
    );
  });

  it('is prominent for an unsure estimate, or no glomerulus in enough tissue', () => {
    expect(scaleNoteLevel({ mppSource: 'estimated', mppConfidence: 0.3 }, found)).toBe('prominent');
    expect(scaleNoteLevel({ mppSource: 'model-default' }, { glomeruli: 0, tissueMm2: EMPTY_TISSUE_MM2 })).toBe(
      'prominent',
    );
    expect(scaleNoteLevel({ mppSource: 'estimated', mppConfidence: 0.9 }, { glomeruli: 0, tissueMm2: 2 })).toBe(
      'prominent',
    );
  });
});
