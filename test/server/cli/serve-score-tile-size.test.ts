/**
 * `glomseg serve --score-tile-size`: the operator's ScoreSlide tile size for every model, over the card's
 * scoreTileSize; without it, the card's (768 for the shipped model). Real server processes, real gRPC, the eval
 * region (1600 x 1200 model pixels): 35 tiles of 256, 6 of 768.
 */
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
  it("scores on the card's 768-pixel tiles by default and on the operator's size when given", async () => {
    expect(await scoreTiles([])).toBe(6);
    expect(await scoreTiles(['--score-tile-size', '256'])).toBe(35);
  }, 240_000);
});
