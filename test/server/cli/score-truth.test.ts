/**
 * `glomseg score --annotations` with ground truth that used to be scored silently wrong (every case exited 0): the
 * real CLI in its own process against a real server (real model, the evaluation region). Bad truth is refused with
 * a clear message and a non-zero exit before any tile is inferred; truth that can be mended is mended and the
 * output says so; shapes of other classes are left out unless named with --truth-class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { events, glomseg } from '../../helpers/cli.js';
import { KIDNEY_REGION_GEOJSON } from '../../helpers/paths.js';
import { useGrpcApp } from '../../helpers/grpc-app.js';

const REGION = '0,0,1600,1200';

let dir: string;
let glomeruli: any;

const served = useGrpcApp({ warm: true });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-truth-'));
  glomeruli = JSON.parse(await readFile(KIDNEY_REGION_GEOJSON, 'utf8'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function truthFile(name: string, content: string | object): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function withFeatures(...features: object[]) {
  return { ...glomeruli, features: [...glomeruli.features, ...features] };
}

const feature = (ring: number[][], name: string) => ({
  type: 'Feature',
  properties: { objectType: 'annotation', classification: { name } },
  geometry: { type: 'Polygon', coordinates: [ring] },
});

const score = (annotations: string, ...more: string[]) =>
  glomseg([
    'score',
    'kidney-region.tif',
    '--server',
    served.app.grpcAddress,
    '--region',
    REGION,
    '--annotations',
    annotations,
    '--json',
    ...more,
  ]);

describe('glomseg score refuses ground truth it cannot score, before any inference', () => {
  it.each([
    ['a 0-byte file', () => '', /the annotations .*a-0-byte-file\.geojson are empty \(0 bytes\)/],
    [
      'annotations that all lie off the slide',
      () => ({
        ...glomeruli,
        features: glomeruli.features.map((f: any) => ({
          ...f,
          geometry: {
            ...f.geometry,
            coordinates: f.geometry.coordinates.map((r: number[][]) => r.map(([x, y]) => [x + 100_000, y])),
          },
        })),
      }),
      /INVALID_ARGUMENT: none of the 60 ground-truth shapes lies on the 6400 x 4800 slide: they span x 10\d+.*another slide, or at another scale/,
    ],
    [
      'a coordinate of 1e308',
      () =>
        withFeatures(
          feature(
            [
              [100, 100],
              [1e308, 100],
              [300, 300],
              [100, 100],
            ],
            'Glomerulus',
          ),
        ),
      /INVALID_ARGUMENT: feature 60 ring 0 point 1 \(1e\+308, 100\) is beyond \+-1073741824 pixels; coordinates are level-0 slide pixels/,
    ],
  ])('%s: a clear error, exit 1, and no tile inferred', async (name, content, message) => {
    const file = await truthFile(`${name.replace(/\W+/g, '-')}.geojson`, content());
    const before = served.app.service.stats();
    const { code, stdout, stderr } = await score(file);
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/TypeError|RangeError|Invalid typed array|at .*\.ts:\d+/);
    const failure = events(stdout).find((e) => e.event === 'error');
    expect(failure.error).toMatch(message);
    expect(events(stdout).some((e) => e.event === 'progress' || e.event === 'result')).toBe(false);
    // The refusal came before inference: not one model tile was run for it.
    expect(served.app.service.stats().tilesComputed).toBe(before.tilesComputed);
  });

  it('refuses an empty --truth-class as a usage error (exit 2)', async () => {
    const { code, stderr } = await glomseg([
      'score',
      'kidney-region.tif',
      '--server',
      served.app.grpcAddress,
      '--annotations',
      KIDNEY_REGION_GEOJSON,
      '--truth-class',
      'Tissue,',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/'Tissue,' names an empty class/);
  });
});

describe('glomseg score takes the glomeruli of the ground truth, and says what it left out or mended', () => {
  it('leaves a QuPath "Tissue" annotation out by default, counts it with --truth-class Tissue', async () => {
    const plain = events((await score(KIDNEY_REGION_GEOJSON)).stdout).find((e) => e.event === 'result');
    expect(plain.warnings).toBeUndefined();
    const tissue = await truthFile(
      'with-tissue.geojson',
      withFeatures(
        feature(
          [
            [0, 0],
            [6400, 0],
            [6400, 4800],
            [0, 4800],
            [0, 0],
          ],
          'Tissue',
        ),
      ),
    );

    const byDefault = await score(tissue);
    expect(byDefault.code).toBe(0);
    const result = events(byDefault.stdout).find((e) => e.event === 'result');
    expect(result.metrics).toEqual(plain.metrics);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /ground truth is the 60 shapes of the glomerulus classes .* left out 1 shape of other classes \("Tissue" 1\)/,
      ),
    ]);
    // The summary table (stderr with --json) says it too.
    expect(byDefault.stderr).toMatch(/ok, see note/);
    expect(byDefault.stderr).toMatch(/warning: kidney-region: ground truth: .*"Tissue" 1/);

    const asked = await score(tissue, '--truth-class', 'Tissue');
    expect(asked.code).toBe(0);
    expect(events(asked.stdout).find((e) => e.event === 'result').metrics).toMatchObject({
      truthCount: 1,
      truthArea: 1600 * 1200,
    });
    const both = await score(tissue, '--truth-class', 'Glomerulus', '--truth-class', 'tissue');
    expect(events(both.stdout).find((e) => e.event === 'result').metrics.truthCount).toBe(plain.metrics.truthCount + 1);
  });

  it('repairs a glomerulus outline that crosses itself, counts both pieces, and says so', async () => {
    // A bow tie in an empty corner of the region: both triangles are truth no prediction finds.
    const bowTie = await truthFile(
      'bow-tie.geojson',
      withFeatures(
        feature(
          [
            [100, 1000],
            [200, 1100],
            [200, 1000],
            [100, 1100],
            [100, 1000],
          ],
          'Glomerulus',
        ),
      ),
    );
    const plain = events((await score(KIDNEY_REGION_GEOJSON)).stdout).find((e) => e.event === 'result');
    const { code, stdout, stderr } = await score(bowTie);
    expect(code).toBe(0);
    const result = events(stdout).find((e) => e.event === 'result');
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^1 ground-truth shape crossed or touched its own outline and was repaired .*: feature 60 \(2 pieces\)$/,
      ),
    ]);
    expect(stderr).toMatch(/warning: kidney-region: ground truth: 1 ground-truth shape crossed/);
    // Rasterised and counted alike: two more true glomeruli, and the pixels of both triangles.
    expect(result.metrics.truthCount).toBe(plain.metrics.truthCount + 2);
    expect(result.metrics.falseNegatives).toBe(plain.metrics.falseNegatives + 2);
    expect(Math.abs(result.metrics.truthArea - plain.metrics.truthArea - 5_000)).toBeLessThan(200);
  });
});
