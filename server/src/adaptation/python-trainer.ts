/**
 * The trainer port at the edge: the regions cropped into a scratch folder, then training/adapt.py (PyTorch, a
 * bounded child process) fine-tuning the parent's checkpoint into a staging folder of the model registry, where
 * the new version stays invisible until it is judged and published (model-versions.ts).
 */
import { mkdtemp, readdir, rename, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelTrainer, TrainerEvent, TrainingRequest } from '@glomseg/shared/adaptation.js';
import { GlomsegError } from '@glomseg/shared/errors.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import { checkTorch, runAdaptProcess } from './adapt-process.js';
import { writeRegionCrops, type CropSlides } from './region-crops.js';

export interface PythonTrainerOptions {
  python: string;
  script: string;
  threads: number;
  memoryBytes: number;
  /** adapt.py --replay: the models' training regions mixed into each batch (against forgetting). */
  replay?: string;
  registry: ModelRegistry;
  slides: CropSlides;
  log?: (message: string) => void;
}

/** Time the child gets beyond its training budget: loading, cropping its tensors, the ONNX export. */
const OVERHEAD_MINUTES = 5;

export class PythonTrainer implements ModelTrainer {
  #torchChecked = false;

  constructor(private readonly options: PythonTrainerOptions) {}

  async check(signal: AbortSignal): Promise<void> {
    if (this.#torchChecked) return;
    await checkTorch(this.options.python, signal);
    this.#torchChecked = true;
  }

  async *train(request: TrainingRequest, signal: AbortSignal): AsyncGenerator<TrainerEvent> {
    const { registry, slides } = this.options;
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'glomseg-adapt-'));
    let staging: string | undefined;
    try {
      const total = request.regions.length;
      yield { kind: 'progress', phase: 'cropping', step: 0, steps: total };
      const { parent, regions, mppOverride } = request;
      const manifest = await writeRegionCrops(slides, parent, regions, scratch, signal, mppOverride);
      yield { kind: 'progress', phase: 'cropping', step: total, steps: total };
      staging = await registry.createStaging();
      const out = path.join(staging, 'trained');
      let summary: Record<string, unknown> | undefined;
      for await (const line of runAdaptProcess(
        {
          python: this.options.python,
          script: this.options.script,
          args: this.argsOf(request, manifest, out),
          threads: this.options.threads,
          memoryBytes: this.options.memoryBytes,
          timeLimitMs: (request.maxMinutes + OVERHEAD_MINUTES) * 60_000,
          log: this.options.log,
        },
        signal,
      )) {
        if (line.kind === 'done') summary = line.summary;
        else yield { ...line, phase: 'training' };
      }
      await flatten(out, staging);
      const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
      const candidate = {
        id: request.version.id,
        folder: staging,
        steps: number(summary?.steps),
        seconds: number(summary?.seconds),
      };
      staging = undefined; // handed over: the versions port keeps or discards it
      yield { kind: 'done', candidate };
    } finally {
      if (staging) await registry.discard(staging).catch(() => undefined);
      await rm(scratch, { recursive: true, force: true });
    }
  }

  private argsOf(request: TrainingRequest, manifest: string, out: string): string[] {
    const { parent, version } = request;
    return [
      '--card',
      this.options.registry.get(parent.id).cardPath,
      '--manifest',
      manifest,
      '--out',
      out,
      '--max-minutes',
      String(request.maxMinutes),
      ...(request.maxSteps !== undefined ? ['--max-steps', String(request.maxSteps)] : []),
      ...(this.options.replay ? ['--replay', this.options.replay] : []),
      // The server holds its own regions out (the use case): adapt.py trains on every region it is given.
      '--holdout',
      '0',
      '--model-id',
      version.id,
      '--name',
      `${parent.name.replace(/ \(adapted.*\)$/, '')} (adapted, v${version.version})`,
    ];
  }
}

/** adapt.py's output folder's files moved up into the staging folder, which becomes the version's folder. */
async function flatten(out: string, staging: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch {
    throw new GlomsegError('INTERNAL', `the training process reported success but wrote no model folder (${out})`);
  }
  for (const name of names) await rename(path.join(out, name), path.join(staging, name));
  await rmdir(out);
}
