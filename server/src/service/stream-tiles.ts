/** The StreamTiles use case: a slide, a model and tiles in priority order -> one outcome per tile, as each is done. */
import type { Checked, StreamTilesParams, TileOutcome } from '@glomseg/shared/glomseg-service.js';
import { assertTileInGrid } from '@glomseg/shared/tile-grid.js';
import type { ServingLimits } from '../validation/limits.js';
import { assertTileBudget } from '../validation/request-validation.js';
import type { TileContexts } from './tile-context.js';
import type { TileRunner } from './tile-runner.js';

export interface StreamTilesParts {
  contexts: TileContexts;
  runner: TileRunner;
  limits: ServingLimits;
}

export async function* streamTiles(
  parts: StreamTilesParts,
  params: Checked<StreamTilesParams>,
  signal: AbortSignal,
): AsyncGenerator<TileOutcome> {
  // The same budget as a region to score, checked before the slide is opened.
  assertTileBudget(
    params.tiles.length,
    parts.limits,
    'the tile list',
    'request the tiles of a viewport or two per call',
  );
  const context = await parts.contexts.open(params, signal);
  for (const tile of params.tiles) assertTileInGrid(context.grid, tile);
  // Viewers keep the tiles' probabilities: a new threshold on them is cut again without the model.
  yield* parts.runner.run(await parts.contexts.reading(context, params, signal), params.tiles, signal, {
    keepProbabilities: true,
    includeProbabilities: params.includeProbabilities,
  });
}
