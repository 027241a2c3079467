/** A local slide file as every reader opens it: NOT_FOUND in one wording when it cannot be reached. */
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { GlomsegError } from '@glomseg/shared/errors.js';

export async function statSlideFile(filePath: string): Promise<Stats> {
  return stat(filePath).catch((error: NodeJS.ErrnoException) => {
    throw new GlomsegError('NOT_FOUND', `cannot open slide file ${filePath}: ${error.code ?? error.message}`, {
      cause: error,
    });
  });
}
