/**
 * The annotation store as the server process wires it: the files under `--data-dir` and authors named by the
 * serve tokens (a server without tokens credits "anonymous").
 */
import type { SlideProvider } from '@glomseg/shared/glomseg-service.js';
import type { CallerNames } from '@glomseg/shared/reviewed-annotations.js';
import type { BearerTokens } from '../security/bearer-tokens.js';
import { ReviewedAnnotations } from '../service/reviewed-annotations.js';
import { defaultDataDir, FileAnnotationStore } from './file-annotation-store.js';

/** Who saved: the name of the token the edge accepted. */
export function tokenNames(tokens: BearerTokens | undefined): CallerNames {
  return {
    nameOf: ({ authorization }) => (tokens ? (tokens.nameOf(authorization) ?? 'unknown token') : 'anonymous'),
  };
}

export async function openAnnotations(options: {
  dataDir: string;
  tokens?: BearerTokens;
  slides: SlideProvider;
  log?: (message: string) => void;
}): Promise<{ annotations: ReviewedAnnotations; store: FileAnnotationStore }> {
  const store = await FileAnnotationStore.open(options.dataDir, options.log);
  const annotations = new ReviewedAnnotations({ store, names: tokenNames(options.tokens), slides: options.slides });
  return { annotations, store };
}

/**
 * The data folder `serve` uses when none is given: the default one if it can hold annotations; else undefined and
 * a warning, so a server on a read-only root (a locked-down container) still serves, keeping no annotations. A
 * folder given with --data-dir that cannot hold them stops the start instead.
 */
export async function usableDefaultDataDir(log: (message: string) => void): Promise<string | undefined> {
  const dataDir = defaultDataDir();
  try {
    await (await FileAnnotationStore.open(dataDir)).close();
    return dataDir;
  } catch (error) {
    log(`${(error as Error).message}; annotations are not kept (give serve --data-dir a writable folder)`);
    return undefined;
  }
}
