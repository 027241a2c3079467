/**
 * `glomseg serve --score-tile-size`: the operator's ScoreSlide tile size for every model, over the card's
 * scoreTileSize; without it, the card's. Real server processes, real gRPC, the eval region (1600 x 1200 model
 * pixels): 35 tiles of 256, 12 of 512, 6 of 768.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { glomsegClient } from '../../helpers/grpc.js';

const servers: ServerProcess[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

/** The tile count of the first progress message of a whole-region ScoreSlide, then the call is cancelled. */
async function scoreTiles(args: string[]): Promise<number> {
  const server = await ServerProcess.start({ slideFolders: [EVAL_REGION], modelFolder: MODELS, device: 'cpu', args });
  servers.push(server);
  const client = glomsegClient(server.address);
  try {
    const { slides } = await client.listSlides({});
    const slideId = slides.find((s) => s.id.endsWith('kidney-region.tif'))!.id;
    const stop = new AbortController();
    for await (const event of client.scoreSlide({ slideId }, { signal: stop.signal })) {
      if (event.event.case === 'progress') {
        stop.abort();
        return event.event.value.tilesTotal;
      }
    }
    throw new Error('no progress');
  } finally {
    client.close();
  }
}

describe('serve --score-tile-size', () => {
  it("scores on the card's tiles by default and on the operator's size when given", async () => {
    const card = JSON.parse(await readFile(path.join(MODELS, 'glomseg-unet.json'), 'utf8'));
    const tiles = (size: number) => Math.ceil(1600 / size) * Math.ceil(1200 / size);
    expect(card.scoreTileSize).not.toBe(256); // else the two calls below could not tell the sizes apart
    expect(await scoreTiles([])).toBe(tiles(card.scoreTileSize));
    expect(await scoreTiles(['--score-tile-size', '256'])).toBe(tiles(256));
  }, 240_000);
});
