/**
 * What ListSlides answers, over real gRPC: ids as the README's ListSlides row says (the path inside the one folder;
 * with several folders, the folder's name first), and names as the proto says (the file name without extension).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GlomsegApp } from '../../../server/src/app.js';
import { slideStem } from '../../../server/src/slides/slide-name.js';
import { EVAL_REGION, REPO_ROOT, MODELS, WSI } from '../../helpers/paths.js';
import { glomsegClient } from '../../helpers/grpc.js';

const apps: GlomsegApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

async function listSlides(folders: string[]) {
  const app = await GlomsegApp.start({ slideFolders: folders, modelFolder: MODELS, httpPort: false, device: 'cpu' });
  apps.push(app);
  const client = glomsegClient(app.grpcAddress);
  try {
    return (await client.listSlides({})).slides;
  } finally {
    client.close();
  }
}

/** The README's ListSlides row: the ids it gives as examples, one folder and several. */
async function readmeExamples() {
  const row = (await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8'))
    .split('\n')
    .find((line) => line.startsWith('| `ListSlides` |'))!;
  const ids = [...row.matchAll(/`([^`\s]+\.(?:tif|svs))`/g)].map((m) => m[1]);
  return { one: ids.filter((id) => !id.includes('/')), several: ids.filter((id) => id.includes('/')) };
}

describe('ListSlides', () => {
  it('names each slide by its file name without extension, as the proto says', async () => {
    const slides = await listSlides([EVAL_REGION, WSI]);
    expect(slides.map((s) => [s.id, s.name])).toEqual([
      ['eval-region/kidney-region-quarter.tif', 'kidney-region-quarter'],
      ['eval-region/kidney-region.tif', 'kidney-region'],
      ['wsi/CMU-1-Small-Region.svs', 'CMU-1-Small-Region'],
      ['wsi/TCGA-CR-7395-01A-01-TS1-jp2k.svs', 'TCGA-CR-7395-01A-01-TS1-jp2k'],
    ]);
    const proto = await readFile(path.join(REPO_ROOT, 'proto/glomseg/v1/glomseg.proto'), 'utf8');
    expect(proto).toMatch(/message SlideSummary \{[^}]*string name = 2;\s*\/\/ file name without extension/);
  });

  it('gives the ids the README gives: the path inside one folder, the folder name first with several', async () => {
    const examples = await readmeExamples();
    expect(examples.one.length).toBeGreaterThan(0);
    expect(examples.several.length).toBeGreaterThan(0);
    const one = (await listSlides([EVAL_REGION])).map((s) => s.id);
    const several = (await listSlides([EVAL_REGION, WSI])).map((s) => s.id);
    for (const id of examples.one) expect(one, `README: ${id} with one folder`).toContain(id);
    for (const id of examples.several) expect(several, `README: ${id} with several folders`).toContain(id);
  });
});

describe('slideStem', () => {
  it('drops the extension, and both of an OME-TIFF', () => {
    expect(slideStem('kidney-region.tif')).toBe('kidney-region');
    expect(slideStem('scan.OME.TIFF')).toBe('scan');
    expect(slideStem('a.b.svs')).toBe('a.b');
    expect(slideStem('noext')).toBe('noext');
  });
});
