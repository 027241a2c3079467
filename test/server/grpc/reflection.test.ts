/**
 * Standard dynamic clients against the server as `npm start` runs it, knowing nothing but its address: `buf curl`
 * (a dev dependency) and a Python grpcio client (Debian python3-grpcio) take every schema from server reflection.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SLIDE_FOLDERS } from '../../../server/src/cli/paths.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const run = promisify(execFile);
const BUF = path.join(REPO_ROOT, 'node_modules', '.bin', 'buf');
const PYTHON_CLIENT = path.join(REPO_ROOT, 'test', 'server', 'grpc', 'reflection_client.py');
const SERVICE = 'glomseg.v1.Glomseg';

const served = useGrpcApp({ slideFolders: DEFAULT_SLIDE_FOLDERS });

/** Every JSON value buf curl printed (one per response message, pretty-printed one after another). */
function jsonValues(text: string): any[] {
  const values: any[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
  }
  return values;
}

/** Whether a base64 string holds a PNG (its eight-byte signature). */
const isPng = (base64: string) =>
  Buffer.from(base64 ?? '', 'base64')
    .subarray(0, 8)
    .equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));

async function bufCurl(method: string, request: object = {}): Promise<any[]> {
  const { stdout } = await run(
    BUF,
    [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '--data',
      JSON.stringify(request),
      `http://${served.app.grpcAddress}/${SERVICE}/${method}`,
    ],
    { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return jsonValues(stdout);
}

/** The same five calls for both clients; requests in the proto's field names (protojson accepts them). */
function calls(slideId: string) {
  return [
    { method: 'GetSlideInfo', request: { slide_id: slideId } },
    { method: 'ListModels', request: { slide_id: slideId } },
    {
      method: 'StreamTiles',
      request: {
        slide_id: slideId,
        tiles: [
          { col: 0, row: 0 },
          { col: 1, row: 0 },
        ],
        include_probabilities: true,
      },
    },
    { method: 'ScoreSlide', request: { slide_id: slideId, region: { x: 0, y: 0, width: 1024, height: 1024 } } },
  ];
}

describe('server reflection, as standard clients use it', () => {
  it('buf curl lists every method and calls each of them through reflection alone', async () => {
    const { stdout: listed } = await run(
      BUF,
      ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-methods', `http://${served.app.grpcAddress}`],
      { timeout: 60_000 },
    );
    for (const method of ['ListSlides', 'GetSlideInfo', 'ListModels', 'StreamTiles', 'ScoreSlide'])
      expect(listed).toContain(`${SERVICE}/${method}`);
    expect(listed).toContain('grpc.health.v1.Health/Check');

    const [slides] = await bufCurl('ListSlides');
    const region = slides.slides.find((s: any) => s.id.endsWith('kidney-region.tif'));
    expect(region).toBeDefined();
    const [[info], [models], tiles, score] = await Promise.all(
      calls(region.id).map((c) => bufCurl(c.method, c.request)),
    );
    expect(info).toMatchObject({ id: region.id, width: 6400, height: 4800 });
    expect(info.levels).toHaveLength(5);
    expect(models.models[0].grid.cols).toBeGreaterThan(0);
    expect(tiles).toHaveLength(2);
    expect(tiles.map((t: any) => t.tile.col ?? 0).sort()).toEqual([0, 1]);
    // Bytes as protojson writes them (base64): each tile's heatmap, a PNG.
    for (const t of tiles) expect(isPng(t.probabilityPng)).toBe(true);
    // The polygons in their batches, then the summary that counts them.
    const batched = score.flatMap((e: any) => e.polygons?.polygons ?? []);
    expect(batched.length).toBeGreaterThan(0);
    expect(score.at(-1).result.polygonCount).toBe(batched.length);
  });

  it('a Python grpcio client built only from reflection calls every method', async () => {
    const { stdout: first } = await run(
      '/usr/bin/python3',
      [PYTHON_CLIENT, served.app.grpcAddress, SERVICE, JSON.stringify([{ method: 'ListSlides', request: {} }])],
      { timeout: 60_000 },
    );
    const lines = first
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].services).toEqual(expect.arrayContaining([SERVICE, 'grpc.health.v1.Health']));
    // The file the service is defined in, by its real name: the descriptor of proto/glomseg/v1/glomseg.proto.
    expect(lines[1].files).toContain('glomseg/v1/glomseg.proto');
    const region = lines[2].responses[0].slides.find((s: any) => s.id.endsWith('kidney-region.tif'));
    const aperio = lines[2].responses[0].slides.find((s: any) => s.id.endsWith('CMU-1-Small-Region.svs'));

    const requests = [...calls(region.id), { method: 'GetSlideInfo', request: { slide_id: aperio.id } }];
    const { stdout } = await run(
      '/usr/bin/python3',
      [PYTHON_CLIENT, served.app.grpcAddress, SERVICE, JSON.stringify(requests)],
      { timeout: 240_000 },
    );
    const [, , info, models, tiles, score, aperioInfo] = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // A map field (string -> string) read through the served map entry type.
    expect(aperioInfo.responses[0].metadata).toMatchObject({ 'aperio.AppMag': '20' });
    // Field names as the .proto spells them (snake_case), map entries included.
    expect(info.responses[0]).toMatchObject({ id: region.id, width: 6400, height: 4800, tile_width: 256 });
    expect(models.responses[0].models[0].grid.tile_size_level0).toBeGreaterThan(0);
    expect(tiles.responses).toHaveLength(2);
    for (const t of tiles.responses) expect(isPng(t.probability_png)).toBe(true);
    const batched = score.responses.flatMap((e: any) => e.polygons?.polygons ?? []);
    expect(batched.length).toBeGreaterThan(0);
    expect(score.responses.at(-1).result.polygon_count).toBe(batched.length);
  });
});
