/**
 * `glomseg annotations import|list|export` as a user runs them, against a real server over gRPC: a folder of
 * another lab's GeoJSON views (and a labelme file) imported as reviewed regions of the slides their names match,
 * each view's extent one region with its glomeruli, credited to the token's name; importing again replaces rather
 * than doubles; a file that matches no slide stops the import before anything is saved; export writes QuPath
 * GeoJSON that reads back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { slideAnnotationsFromProto } from '@glomseg/api/client/annotations-proto.js';
import { parseAnnotationShapes, parseAnnotations } from '@glomseg/shared/annotations.js';
import { GlomsegApp } from '../../../../server/src/app.js';
import { BearerTokens } from '../../../../server/src/security/bearer-tokens.js';
import { glomseg } from '../../../helpers/cli.js';
import { glomsegClient, type GlomsegTestClient } from '../../../helpers/grpc.js';
import { DATA, MODELS } from '../../../helpers/paths.js';

const VIEWS = path.join(DATA, 'other-labs', 'awke4-he-biopsy');
let dir: string;
let app: GlomsegApp;
let client: GlomsegTestClient;
let server: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'glomseg-annotations-cli-'));
  await writeFile(path.join(dir, 'token.txt'), 'lab-pathologist s3cret\n');
  app = await GlomsegApp.start({
    slideFolders: [VIEWS],
    modelFolder: MODELS,
    httpPort: false,
    device: 'cpu',
    dataDir: path.join(dir, 'data'),
    security: { tokens: BearerTokens.fromList(['lab-pathologist s3cret']) },
  });
  client = glomsegClient(app.grpcAddress, { headers: { authorization: 'Bearer s3cret' } });
  server = ['--server', app.grpcAddress, '--token-file', path.join(dir, 'token.txt')];
}, 60_000);

afterAll(async () => {
  client?.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('glomseg annotations', () => {
  it('imports a folder of views as reviewed regions, list shows the versions, and importing again replaces', async () => {
    const folder = path.join(dir, 'views');
    await mkdir(folder);
    for (const name of ['C001_region1', 'C002_region1']) {
      await copyFile(path.join(VIEWS, `${name}.geojson`), path.join(folder, `${name}.geojson`));
    }
    // labelme, named with a suffix after the slide's name.
    const labelme = {
      version: '5.0.1',
      shapes: [
        {
          label: 'glomerulus',
          points: [
            [100, 100],
            [200, 100],
            [200, 180],
            [100, 180],
          ],
          shape_type: 'polygon',
        },
      ],
      imageWidth: 1350,
      imageHeight: 905,
    };
    await writeFile(path.join(folder, 'C004_region1_labelme.json'), JSON.stringify(labelme));

    const first = await glomseg(['annotations', 'import', folder, ...server]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n').sort()).toEqual([
      'C001_region1.png: version 1 by lab-pathologist, 1 reviewed region with 1 glomerulus from C001_region1.geojson',
      'C002_region1.png: version 1 by lab-pathologist, 1 reviewed region with 2 glomeruli from C002_region1.geojson',
      'C004_region1.png: version 1 by lab-pathologist, 1 reviewed region with 1 glomerulus from C004_region1_labelme.json',
    ]);
    const saved = slideAnnotationsFromProto(await client.getAnnotations({ slideId: 'C002_region1.png' }));
    const [region] = saved.regions;
    expect(region.outline).toEqual([
      [0, 0],
      [1350, 0],
      [1350, 905],
      [0, 905],
    ]);
    const truth = parseAnnotations(await readFile(path.join(VIEWS, 'C002_region1.geojson'), 'utf8'));
    expect(region.glomeruli.map((g) => g.exterior)).toEqual(truth.map((p) => p.exterior));
    expect(region.glomeruli.every((g) => g.source === 'imported')).toBe(true);

    const again = await glomseg(['annotations', 'import', folder, ...server]);
    expect(again.code).toBe(0);
    const listed = await glomseg(['annotations', 'list', 'C002_region1', ...server]);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t').filter((_, i) => i !== 1)),
    ).toEqual([
      ['2', 'lab-pathologist', '1 region, 2 glomeruli', 'imported from C002_region1.geojson'],
      ['1', 'lab-pathologist', '1 region, 2 glomeruli', 'imported from C002_region1.geojson'],
    ]);
  }, 120_000);

  it('stops before saving anything when a file matches no served slide', async () => {
    const folder = path.join(dir, 'stray');
    await mkdir(folder);
    await copyFile(path.join(VIEWS, 'C004_region2.geojson'), path.join(folder, 'C004_region2.geojson'));
    await writeFile(path.join(folder, 'Z999_view.geojson'), '{"type":"FeatureCollection","features":[]}');
    const result = await glomseg(['annotations', 'import', folder, ...server]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no served slide is named like Z999_view\.geojson: nothing was imported/);
    expect((await client.listAnnotations({ slideId: 'C004_region2.png' })).versions).toEqual([]);
  }, 60_000);

  it('exports a version as QuPath GeoJSON', async () => {
    const out = path.join(dir, 'export.geojson');
    const result = await glomseg(['annotations', 'export', 'C001_region1', '--at-version', '1', '-o', out, ...server]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/version 1 of C001_region1\.png by lab-pathologist/);
    const shapes = parseAnnotationShapes(await readFile(out, 'utf8'));
    expect(shapes.map((s) => s.label)).toEqual(['Region*', 'Glomerulus']);
    const missing = await glomseg(['annotations', 'export', 'C003_region1', ...server]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND: no annotations have been saved for slide 'C003_region1\.png'/);
  }, 60_000);
});
