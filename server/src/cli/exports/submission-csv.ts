/** `submission.csv`: HuBMAP RLE, one row per scored slide. */
import { toRleCsv } from '@glomseg/shared/annotations.js';
import { registerBatchExport } from './registry.js';

export const SUBMISSION_FILE = 'submission.csv';

registerBatchExport({
  fileName: SUBMISSION_FILE,
  write: ({ slides }) =>
    toRleCsv(slides.flatMap(({ result }) => (result ? [{ id: result.name, rle: result.rle }] : []))),
});
