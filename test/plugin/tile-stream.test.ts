/** When the tile stream opens and aborts, by how the view moves, with a scripted server stream (a fake port). */
import { describe, expect, it } from 'vitest';
import { tileKey, type TileAddress, type TileGrid } from '@glomseg/shared/tile-grid.js';
import { TileStreamController, type ReceivedTile, type TileStreamState } from '../../plugin/src/tile-stream.js';

const grid = { cols: 4, rows: 4, tileSizeLevel0: 100, slideWidth: 400, slideHeight: 400 } as TileGrid;
const t = (col: number, row: number): TileAddress => ({ col, row });
const keys = (tiles: readonly TileAddress[]) => tiles.map(tileKey);

/** A server whose streams send a tile each time the test says so, and tell when they are aborted. */
function scriptedServer() {
  const streams: Array<{ tiles: TileAddress[]; aborted: boolean; send(): void; fail(): void }> = [];
  const source = async function* (tiles: TileAddress[], signal: AbortSignal): AsyncIterable<ReceivedTile> {
    let wake: () => void = () => {};
    let failed = false;
    const stream = { tiles, aborted: false, send: () => wake(), fail: () => ((failed = true), wake()) };
    streams.push(stream);
    signal.addEventListener('abort', () => ((stream.aborted = true), wake()));
    for (const tile of tiles) {
      await new Promise<void>((resolve) => (wake = resolve));
      if (signal.aborted) return;
      if (failed) throw new Error('the server failed');
      yield {
        tile,
        bounds: { x: tile.col * 100, y: tile.row * 100, width: 100, height: 100 },
        polygons: [],
        cached: false,
      };
    }
  };
  return { streams, source };
}

function controllerWith(server: ReturnType<typeof scriptedServer>) {
  const states: TileStreamState[] = [];
  const errors: unknown[] = [];
  const received: string[] = [];
  const controller = new TileStreamController({
    grid,
    source: server.source,
    onTile: (tile) => received.push(tileKey(tile.tile)),
    onState: (state) => states.push(state),
    onError: (error) => errors.push(error),
  });
  return { controller, states, errors, received };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('TileStreamController', () => {
  it("streams only requested tiles the view shows, in the view's order, once each", async () => {
    const server = scriptedServer();
    const { controller, received } = controllerWith(server);
    for (const tile of [t(0, 0), t(1, 0), t(3, 3)]) controller.request(tile);
    controller.setView({ tiles: [t(1, 0), t(0, 0), t(2, 0)], limited: false }, 'still');
    expect(server.streams.map((s) => keys(s.tiles))).toEqual([['1,0', '0,0']]);
    server.streams[0].send();
    await tick();
    server.streams[0].send();
    await tick();
    expect(received).toEqual(['1,0', '0,0']);
    controller.request(t(1, 0)); // received already: not asked for again
    controller.setView({ tiles: [t(1, 0), t(0, 0)], limited: false }, 'still');
    expect(server.streams).toHaveLength(1);
  });

  it('while the user drags the map, aborts a stream whose tiles left the view and opens none', async () => {
    const server = scriptedServer();
    const { controller } = controllerWith(server);
    for (const tile of [t(0, 0), t(1, 0), t(2, 2), t(3, 2)]) controller.request(tile);
    controller.setView({ tiles: [t(0, 0), t(1, 0)], limited: false }, 'still');
    controller.setView({ tiles: [t(2, 2), t(3, 2)], limited: false }, 'dragged');
    expect(server.streams[0].aborted).toBe(true);
    expect(server.streams).toHaveLength(1);
    expect(controller.streamsAborted).toBe(1);
    // At rest (moveend): the view's tiles.
    controller.setView({ tiles: [t(2, 2), t(3, 2)], limited: false }, 'still');
    expect(server.streams.map((s) => keys(s.tiles))).toEqual([
      ['0,0', '1,0'],
      ['2,2', '3,2'],
    ]);
  });

  it('while the map animates, opens a stream when none is open and aborts none; at rest, aborts what left the view', async () => {
    const server = scriptedServer();
    const { controller } = controllerWith(server);
    for (const tile of [t(0, 0), t(1, 0), t(2, 0)]) controller.request(tile);
    controller.setView({ tiles: [t(0, 0)], limited: false }, 'animated');
    controller.setView({ tiles: [t(1, 0), t(2, 0)], limited: false }, 'animated');
    expect(server.streams.map((s) => [keys(s.tiles), s.aborted])).toEqual([[['0,0'], false]]);
    // The stream ends: the next one asks for what the view shows now.
    server.streams[0].send();
    await tick();
    await tick();
    expect(server.streams.map((s) => keys(s.tiles))).toEqual([['0,0'], ['1,0', '2,0']]);
    controller.setView({ tiles: [t(1, 0)], limited: false }, 'still');
    expect(server.streams[1].aborted).toBe(true);
    expect(server.streams.map((s) => keys(s.tiles)).at(-1)).toEqual(['1,0']);
  });

  it('keeps a stream whose tiles the view still shows when it shows more, and asks for the rest when it ends', async () => {
    const server = scriptedServer();
    const { controller, states } = controllerWith(server);
    for (const tile of [t(1, 1), t(0, 1), t(2, 1)]) controller.request(tile);
    controller.setView({ tiles: [t(1, 1)], limited: false }, 'still');
    controller.setView({ tiles: [t(1, 1), t(0, 1), t(2, 1)], limited: true }, 'still');
    expect(server.streams).toHaveLength(1);
    expect(states.at(-1)).toEqual({ received: 0, total: 3, streaming: true, limited: true });
    server.streams[0].send();
    await tick();
    await tick();
    expect(server.streams.map((s) => keys(s.tiles))).toEqual([['1,1'], ['0,1', '2,1']]);
  });

  it('after a failed stream, asks again at the next view change, not at once', async () => {
    const server = scriptedServer();
    const { controller, errors } = controllerWith(server);
    controller.request(t(0, 0));
    controller.setView({ tiles: [t(0, 0)], limited: false }, 'still');
    server.streams[0].fail();
    await tick();
    await tick();
    expect(errors).toHaveLength(1);
    expect(server.streams).toHaveLength(1);
    controller.setView({ tiles: [t(0, 0)], limited: false }, 'still');
    expect(server.streams).toHaveLength(2);
  });
});
