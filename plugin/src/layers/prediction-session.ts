/**
 * What a prediction session talks to the server about: the slide and the model's tile grid on it (GetSlideInfo and
 * ListModels), and the model tiles of one cut (StreamTiles), all through the api package's mappings.
 */
import type { ModelSummary } from '@glomseg/shared/glomseg-service.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { TileAddress, TileGrid } from '@glomseg/shared/tile-grid.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import { modelFromProto, slideInfoFromProto, tileOutcomesFromProto } from '@glomseg/api/client/from-proto.js';
import { listModelsRequestToProto, streamTilesRequestToProto } from '@glomseg/api/client/to-proto.js';
import { glomsegClient, type RequestHeaders } from '../glomseg-client.js';
import type { PixelOrigin } from '../slide-frame.js';
import type { ReceivedTile, TileStreamSource } from '../tile-stream.js';

export interface PredictionSettings {
  serverUrl: string;
  headers?: RequestHeaders;
  slide: string;
  model: string;
  /** 0: the model card's. */
  threshold: number;
  /** 0: the file's pixel size (or the server's estimate). */
  mppOverride: number;
  pixelOrigin: PixelOrigin;
  maxTiles: number;
}

/** A model with its tile grid on the session's slide. */
export type ModelOnSlide = ModelSummary & { grid: TileGrid };

/** The slide and the chosen model's grid on it. */
export async function openSlideAndModel(
  settings: PredictionSettings,
  signal: AbortSignal,
): Promise<{ slide: SlideMetadata; model: ModelOnSlide }> {
  const slideId = settings.slide;
  const client = glomsegClient(settings.serverUrl, settings.headers);
  const [info, models] = await Promise.all([
    client.getSlideInfo({ slideId }, { signal }),
    client.listModels(listModelsRequestToProto({ slideId, mppOverride: settings.mppOverride || undefined }), {
      signal,
    }),
  ]);
  const chosen = settings.model ? models.models.find((m) => m.id === settings.model) : models.models[0];
  if (!chosen) {
    const available = models.models.map((m) => m.id).join(', ') || 'none';
    throw new GlomsegError(
      'NOT_FOUND',
      settings.model
        ? `the server has no model '${settings.model}' (available: ${available})`
        : 'the server has no models',
    );
  }
  const { grid, ...summary } = modelFromProto(chosen);
  if (!grid)
    throw new GlomsegError('INTERNAL', `the server sent no tile grid for model ${chosen.id} on slide ${slideId}`);
  return { slide: slideInfoFromProto(info), model: { ...summary, grid } };
}

/** StreamTiles for one cut: this slide, model, threshold and scale. */
export function modelTileStream(settings: PredictionSettings, modelId: string): TileStreamSource {
  const { serverUrl, headers, slide: slideId, threshold, mppOverride } = settings;
  return async function* (tiles: TileAddress[], signal: AbortSignal): AsyncIterable<ReceivedTile> {
    const wire = streamTilesRequestToProto({
      slideId,
      modelId,
      tiles,
      threshold: threshold || undefined,
      mppOverride: mppOverride || undefined,
      // Each tile's probabilities too (a PNG of about 2 KB): the heatmap then needs no stream of its own.
      includeProbabilities: true,
    });
    yield* tileOutcomesFromProto(glomsegClient(serverUrl, headers).streamTiles(wire, { signal }));
  };
}
