/** The glomseg version, read from the root package.json: the one place it is set. */
import { createRequire } from 'node:module';

export const GLOMSEG_VERSION: string = (createRequire(import.meta.url)('../../../package.json') as { version: string })
  .version;
