/**
 * The gRPC-Web edge, driven by an independent gRPC-Web client (raw fetch + hand-parsed frames + protobufjs), on the
 * real app (real slides in ../shared/data, a real ONNX model), plus the plain HTTP routes of the web server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyModel, type TinyModel } from '../inference/tiny-model.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON } from '../../helpers/paths.js';
import { until } from '../../helpers/until.js';
import { callGrpcWeb } from './grpc-web-client.js';
import { readFile, rm } from 'node:fs/promises';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const GRPC_OK = 0;
const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
// The test slides do not state their pixel size; this tiny model has an mpp only, so the request gives one.
const MPP = 0.5;

let model: TinyModel;
let url: string;

const served = useGrpcApp(async () => {
  model = await buildTinyModel({ id: 'tiny-web' });
  return {
    modelFolder: model.folder,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    demo: { slideId: 'kidney-region.tif', annotationsPath: KIDNEY_REGION_GEOJSON },
    security: { corsOrigins: ['http://portal.example'] },
  };
});

beforeAll(() => {
  url = served.app.httpUrl!;
});

afterAll(async () => {
  if (model) await rm(model.folder, { recursive: true, force: true });
});

describe('gRPC-Web (independent client)', () => {
  it('answers a unary call with one data frame and a trailer frame carrying grpc-status 0', async () => {
    const reply = await callGrpcWeb(url, 'ListSlides', 'ListSlidesRequest', 'ListSlidesResponse', {});
    expect(reply.httpStatus).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/grpc-web(\+proto)?$/);
    expect(reply.trailerFrameSeen).toBe(true);
    expect(reply.status).toBe(GRPC_OK);
    expect(reply.messages).toHaveLength(1);
    const slides = reply.messages[0].slides as Array<{ id: string; name: string; fileSize: number }>;
    const region = slides.find((s) => s.id === 'kidney-region.tif');
    expect(region).toBeDefined();
    expect(region!.fileSize).toBe((await readFile(`${EVAL_REGION}/kidney-region.tif`)).byteLength);
  });

  it('reports an unknown slide as NOT_FOUND with a readable message', async () => {
    const reply = await callGrpcWeb(url, 'GetSlideInfo', 'GetSlideInfoRequest', 'SlideInfo', {
      slideId: 'no-such-slide.tif',
    });
    expect(reply.httpStatus).toBe(200);
    expect(reply.messages).toHaveLength(0);
    expect(reply.status).toBe(GRPC_NOT_FOUND);
    expect(reply.message).toContain('no-such-slide.tif');
  });

  it('maps a bad request to INVALID_ARGUMENT', async () => {
    const reply = await callGrpcWeb(url, 'StreamTiles', 'StreamTilesRequest', 'TileResult', {
      slideId: 'kidney-region.tif',
      tiles: [{ col: 999, row: 0 }],
      mppOverride: MPP,
    });
    expect(reply.status).toBe(GRPC_INVALID_ARGUMENT);
    expect(reply.message).toMatch(/outside the model grid/);
  });

  it('reads slide info with the pyramid and the model grid on it', async () => {
    const info = await callGrpcWeb(url, 'GetSlideInfo', 'GetSlideInfoRequest', 'SlideInfo', {
      slideId: 'kidney-region.tif',
    });
    expect(info.status).toBe(GRPC_OK);
    expect(info.messages[0]).toMatchObject({
      width: 6400,
      height: 4800,
      tileWidth: 256,
      tileHeight: 256,
      compression: 'jpeg',
    });
    expect(info.messages[0].levels).toHaveLength(5);
    const models = await callGrpcWeb(url, 'ListModels', 'ListModelsRequest', 'ListModelsResponse', {
      slideId: 'kidney-region.tif',
      mppOverride: MPP,
    });
    expect(models.status).toBe(GRPC_OK);
    const grid = models.messages[0].models[0].grid;
    // 256 model pixels at 2 um/px on a 0.5 um/px slide: 1024 level-0 pixels per tile.
    expect(grid).toMatchObject({ scale: 4, tileSizeLevel0: 1024, cols: 7, rows: 5, mppSource: 'request' });
  });

  it('streams one TileResult per requested tile, the grid with the first only, then the trailers', async () => {
    const tiles = [
      { col: 3, row: 2 },
      { col: 0, row: 0 },
      { col: 6, row: 4 },
    ];
    const reply = await callGrpcWeb(url, 'StreamTiles', 'StreamTilesRequest', 'TileResult', {
      slideId: 'kidney-region.tif',
      tiles,
      mppOverride: MPP,
    });
    expect(reply.status).toBe(GRPC_OK);
    expect(reply.trailerFrameSeen).toBe(true);
    expect(reply.messages).toHaveLength(3);
    const received = reply.messages.map((m) => `${m.tile.col},${m.tile.row}`).sort();
    expect(received).toEqual(['0,0', '3,2', '6,4']);
    expect(reply.messages[0].grid).toMatchObject({ cols: 7, rows: 5 });
    expect(reply.messages.slice(1).every((m) => m.grid === null || m.grid === undefined)).toBe(true);
    const corner = reply.messages.find((m) => m.tile.col === 6 && m.tile.row === 4)!;
    // The last tile is clipped to the slide: 6400 - 6 * 1024 by 4800 - 4 * 1024.
    expect(corner.bounds).toEqual({ x: 6144, y: 4096, width: 256, height: 704 });
    expect(corner.requestIndex).toBe(2);
  });

  it('aborts the server-side stream when the browser-side fetch is aborted', async () => {
    const before = served.app.service.stats().cancelledStreams;
    const tiles = Array.from({ length: 35 }, (_, i) => ({ col: i % 7, row: Math.floor(i / 7) }));
    // A threshold not asked for before, so the tiles are not all in the result cache.
    const reply = await callGrpcWeb(
      url,
      'StreamTiles',
      'StreamTilesRequest',
      'TileResult',
      { slideId: 'kidney-region.tif', tiles, mppOverride: MPP, threshold: 0.37 },
      { onMessage: () => true },
    );
    expect(reply.messages).toHaveLength(1);
    await until(() => served.app.service.stats().cancelledStreams !== before);
    expect(served.app.service.stats().cancelledStreams).toBe(before + 1);
    expect(served.app.service.stats().activeStreams).toBe(0);
  });

  it('answers CORS preflight for gRPC-Web and exposes the gRPC status headers', async () => {
    const response = await fetch(`${url}/glomseg.v1.Glomseg/StreamTiles`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://portal.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-grpc-web,x-user-agent,grpc-timeout',
      },
    });
    expect(response.status).toBe(204);
    // The allowlisted origin, by name: never `*`.
    expect(response.headers.get('access-control-allow-origin')).toBe('http://portal.example');
    const allowed = response.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-grpc-web', 'x-user-agent', 'grpc-timeout']));
    const exposed = response.headers.get('access-control-expose-headers')!.toLowerCase().split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(['grpc-status', 'grpc-message', 'grpc-status-details-bin']));
  });
});

describe('HTTP routes', () => {
  it('serves stored JPEG tiles of the pyramid untouched', async () => {
    const response = await fetch(`${url}/api/slides/${encodeURIComponent('kidney-region.tif')}/tiles/2/1/1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toMatch(/max-age/);
    expect(response.headers.get('x-glomseg-passthrough')).toBe('true');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([bytes[0], bytes[1], bytes[bytes.length - 2], bytes[bytes.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
  });

  it('answers errors as JSON with the matching HTTP status', async () => {
    const missing = await fetch(`${url}/api/slides/${encodeURIComponent('folder/none.tif')}/tiles/0/0/0`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const outside = await fetch(`${url}/api/slides/kidney-region.tif/tiles/0/999/0`);
    expect(outside.status).toBe(400);
    expect(await outside.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });

  it('serves the viewer page on the demo slide, the plugin bundle and the demo annotations', async () => {
    const page = await (await fetch(`${url}/`)).text();
    expect(page).toContain('<glomseg-viewer slide="kidney-region.tif" annotations-url="/api/demo/annotations">');
    const bundle = await fetch(`${url}/plugin/glomseg-plugin.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect(await bundle.text()).toContain('glomseg-overlay');
    const annotations = await fetch(`${url}/api/demo/annotations`);
    expect(annotations.status).toBe(200);
    expect(await annotations.text()).toBe(await readFile(KIDNEY_REGION_GEOJSON, 'utf8'));
  });
});
