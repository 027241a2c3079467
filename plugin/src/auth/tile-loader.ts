/**
 * Slide image tiles fetched with the same headers as the gRPC-Web calls (one token provider for both): an
 * OpenLayers tile load function that fetches the tile with its Authorization header and shows it from a blob URL,
 * revoked once the image has decoded. A plain <img src> cannot carry a header, so a token server answered every
 * tile 401 and the map stayed white.
 */
import type { LoadFunction } from 'ol/Tile.js';
import type ImageTile from 'ol/ImageTile.js';
import TileState from 'ol/TileState.js';
import { resolveHeaders, type RequestHeaders } from '../glomseg-client.js';

/** Why a tile failed, by tile, for whoever reports the source's `tileloaderror` (see tile-errors.ts). */
const failures = new WeakMap<object, TileFailure>();

export interface TileFailure {
  /** The server's error code (UNAUTHENTICATED for a 401), else UNAVAILABLE. */
  code: string;
  reason: string;
}

/** Why a tile failed to load, when it was loaded by `tileLoaderWithHeaders`. */
export function tileFailure(tile: object): TileFailure | undefined {
  return failures.get(tile);
}

/** A `tileLoadFunction` for `ol/source/TileImage` that sends `headers` (fixed, or a token provider) with each tile. */
export function tileLoaderWithHeaders(headers?: RequestHeaders): LoadFunction {
  return (tile, src) => {
    const imageTile = tile as ImageTile;
    const fail = (reason: string, code = 'UNAVAILABLE') => {
      failures.set(tile, { code, reason });
      tile.setState(TileState.ERROR);
    };
    void (async () => {
      let response: Response;
      try {
        response = await fetch(src, { headers: await resolveHeaders(headers), credentials: 'same-origin' });
      } catch (error) {
        fail(`the tile could not be fetched (${(error as Error).message})`);
        return;
      }
      if (!response.ok) {
        const body = await response.json().catch(() => undefined);
        const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
        fail(`HTTP ${response.status}${error?.message ? `: ${error.message}` : ''}`, error?.code);
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const image = imageTile.getImage() as HTMLImageElement;
      const revoke = () => URL.revokeObjectURL(url);
      image.addEventListener('load', revoke, { once: true });
      image.addEventListener('error', revoke, { once: true });
      image.src = url;
    })();
  };
}
