/** /metrics on the real app after real traffic: stream outcomes, tiles, stage latencies, status codes, sockets, RSS. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GlomsegApp } from '../../../server/src/app.js';
import { EVAL_REGION, MODELS } from '../../helpers/paths.js';
import { collect, glomsegClient, statusOf, type GlomsegTestClient } from '../../helpers/grpc.js';
import { callGrpcWeb } from '../web/grpc-web-client.js';

let app: GlomsegApp;
let client: GlomsegTestClient;

beforeAll(async () => {
  app = await GlomsegApp.start({ slideFolders: [EVAL_REGION], modelFolder: MODELS, httpPort: 0, device: 'cpu' });
  client = glomsegClient(app.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await app?.close();
});

/** The value of one sample line, e.g. `glomseg_tiles_total{source="computed"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text.split('\n').filter((l) => l.startsWith('glomseg_')).slice(0, 60).join('\n')}`);
  return Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('counts streams, tiles, stage latencies, call codes and sockets, and reports RSS', async () => {
    await collect(client.streamTiles({ slideId: 'kidney-region.tif', tiles: [{ col: 0, row: 0 }, { col: 1, row: 0 }] }));
    await collect(client.streamTiles({ slideId: 'kidney-region.tif', tiles: [{ col: 0, row: 0 }] }));
    expect((await statusOf(client.getSlideInfo({ slideId: 'no-such.tif' }))).code).toBe(5);
    const web = await callGrpcWeb(app.httpUrl!, 'ListSlides', 'ListSlidesRequest', 'ListSlidesResponse', {});
    expect(web.status).toBe(0);

    const response = await fetch(`${app.httpUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, 'glomseg_streams_total{outcome="completed"}')).toBe(2);
    expect(sample(text, 'glomseg_streams_active')).toBe(0);
    expect(sample(text, 'glomseg_tiles_total{source="computed"}')).toBe(2);
    expect(sample(text, 'glomseg_tiles_total{source="cache"}')).toBe(1);
    expect(sample(text, 'glomseg_tile_stage_seconds_count{stage="inference"}')).toBe(2);
    expect(sample(text, 'glomseg_tile_queue_depth')).toBe(0);
    expect(sample(text, 'glomseg_calls_total{transport="grpc",code="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'glomseg_calls_total{transport="grpc",code="OK"}')).toBe(2);
    expect(sample(text, 'glomseg_calls_total{transport="grpc-web",code="OK"}')).toBe(1);
    expect(sample(text, 'glomseg_grpc_connections_open')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'glomseg_process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample(text, 'glomseg_result_cache_entries')).toBe(2);
  });
});
