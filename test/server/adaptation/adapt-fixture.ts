/**
 * What the AdaptModel tests over gRPC share: a scratch models folder with the shipped model (card, ONNX files and
 * its PyTorch checkpoint), a slide folder with three views of patient C001 of the other lab's H&E set (the issue's
 * adaptation patients; C003, its evaluation patient, is never used), a token file, and the views' ground truth
 * saved as reviewed regions through SaveAnnotations, as the viewer saves them.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { saveAnnotationsRequestToProto } from '@glomseg/api/client/annotations-proto.js';
import type { AnnotatedRegion } from '@glomseg/shared/reviewed-annotations.js';
import { ServerProcess } from '../../../server/src/bench/server-process.js';
import { DATA, MODELS, REPO_ROOT } from '../../helpers/paths.js';
import type { GlomsegTestClient } from '../../helpers/grpc.js';

export const HE_VIEWS = path.join(DATA, 'other-labs', 'awke4-he-biopsy');
export const SLIDES = ['C001_region1.png', 'C001_region2.png', 'C001_region3.png'];
export const TOKEN = 'adapt-test-token';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export interface AdaptScratch {
  root: string;
  models: string;
  slides: string;
  data: string;
  tokens: string;
}

export async function adaptScratch(): Promise<AdaptScratch> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'glomseg-adapt-grpc-'));
  const scratch = {
    root,
    models: path.join(root, 'models'),
    slides: path.join(root, 'slides'),
    data: path.join(root, 'data'),
    tokens: path.join(root, 'tokens.txt'),
  };
  await mkdir(scratch.models);
  await mkdir(scratch.slides);
  for (const name of await readdir(MODELS))
    if (name.startsWith('glomseg-unet.')) await copyFile(path.join(MODELS, name), path.join(scratch.models, name));
  for (const slide of SLIDES) await copyFile(path.join(HE_VIEWS, slide), path.join(scratch.slides, slide));
  await writeFile(scratch.tokens, `pathologist ${TOKEN}\n`);
  return scratch;
}

/**
 * The shipped model's own training tiles as a replay manifest (training/replay_regions.py), for `serve
 * --adapt-replay`; returns its path.
 */
export async function replayManifest(scratch: AdaptScratch): Promise<string> {
  const out = path.join(scratch.root, 'replay');
  await promisify(execFile)('/usr/bin/python3', [
    path.join(REPO_ROOT, 'training', 'replay_regions.py'),
    path.join(DATA, 'hubmap-vu'),
    out,
    '--card',
    path.join(scratch.models, 'glomseg-unet.json'),
  ]);
  return path.join(out, 'manifest.json');
}

/** `glomseg serve` on the scratch folders, as a separate process; more flags in `args`. */
export function startServer(scratch: AdaptScratch, args: string[] = []): Promise<ServerProcess> {
  return ServerProcess.start({
    slideFolders: [scratch.slides],
    modelFolder: scratch.models,
    device: 'cpu',
    workers: 1,
    args: ['--data-dir', scratch.data, ...args],
  });
}

/** A view's ground truth as one reviewed region: the whole view, its glomeruli as drawn. */
async function reviewedView(slide: string): Promise<AnnotatedRegion> {
  const geojson = JSON.parse(await readFile(path.join(HE_VIEWS, slide.replace(/\.png$/, '.geojson')), 'utf8')) as {
    features: Array<{ geometry: { type: string; coordinates: number[][][] } }>;
  };
  const ring = (points: number[][]) => points.slice(0, -1).map(([x, y]) => [x!, y!] as [number, number]);
  return {
    id: 'view',
    outline: [
      [0, 0],
      [1350, 0],
      [1350, 905],
      [0, 905],
    ],
    glomeruli: geojson.features
      .filter((f) => f.geometry.type === 'Polygon')
      .map((f) => ({
        exterior: ring(f.geometry.coordinates[0]!),
        holes: f.geometry.coordinates.slice(1).map(ring),
        source: 'drawn' as const,
      })),
  };
}

export async function saveReviewedViews(client: GlomsegTestClient): Promise<void> {
  for (const slideId of SLIDES) {
    const request = saveAnnotationsRequestToProto({
      slideId,
      baseVersion: 0,
      note: 'ground truth as corrections',
      regions: [await reviewedView(slideId)],
    });
    await client.saveAnnotations(request as pb.SaveAnnotationsRequest);
  }
}

/** Processes whose command line names `needle` (the training child of a server on these folders). */
export async function processesNaming(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle) && cmdline.includes('adapt.py')) pids.push(Number(entry));
  }
  return pids;
}
