/**
 * The annotation store as the server process wires it: the files under `--data-dir` and authors named by the
 * serve tokens (a server without tokens credits "anonymous").
 */
import type { SlideProvider } from '@glomseg/shared/glomseg-service.js';
import type { CallerNames } from '@glomseg/shared/reviewed-annotations.js';
import type { BearerTokens } from '../security/bearer-tokens.js';
import { ReviewedAnnotations } from '../service/reviewed-annotations.js';
import { FileAnnotationStore } from './file-annotation-store.js';

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
