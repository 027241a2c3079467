/** The settings a batch folder records: results counted against other ground-truth classes are never mixed in. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchConflictError } from '../../../server/src/cli/batch-manifest.js';
import { batchSettingsOf, planBatch } from '../../../server/src/cli/score-batch.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 'glomseg-batch-settings-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('batchSettingsOf', () => {
  it('records --truth-class when given, and leaves it out at its default (older folders still resume)', () => {
    expect(batchSettingsOf({ annotations: 'truth', truthClass: ['Glomerulus', 'Tissue'] })).toMatchObject({
      truthClasses: ['Glomerulus', 'Tissue'],
    });
    expect(batchSettingsOf({ annotations: 'truth' })).not.toHaveProperty('truthClasses');
  });

  it('refuses to resume a folder scored against other truth classes', async () => {
    const slides = ['a.tif'];
    const plan = { out, force: false, resume: true };
    await planBatch(slides, { ...plan, settings: batchSettingsOf({ annotations: 'truth' }) });
    await expect(
      planBatch(slides, { ...plan, settings: batchSettingsOf({ annotations: 'truth', truthClass: ['Tissue'] }) }),
    ).rejects.toThrowError(BatchConflictError);
    await expect(
      planBatch(slides, { ...plan, settings: batchSettingsOf({ annotations: 'truth', truthClass: ['Tissue'] }) }),
    ).rejects.toThrowError(/truthClasses=\["Tissue"\]/);
  });
});
