/**
 * What `glomseg adapt` writes while the server adapts: a progress bar on a terminal (phase, step, loss, ETA), plain
 * lines otherwise (each phase once, then every tenth of training), or JSON lines with --json; then the figures.
 */
import cliProgress from 'cli-progress';
import type * as pb from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { etaText } from './score-progress.js';

export interface AdaptReporter {
  progress(progress: pb.AdaptProgress): void;
  stop(): void;
}

const PHASE_WORDS: Record<string, string> = {
  'reading-regions': 'reading the reviewed regions',
  'scoring-before': 'scoring the held-out regions (before)',
  cropping: 'cutting the regions from the slides',
  training: 'training',
  'scoring-after': 'scoring the held-out regions (after)',
  registering: 'registering the new version',
};

const phaseText = (phase: string) => PHASE_WORDS[phase] ?? phase;
const lossText = (p: pb.AdaptProgress) => (p.loss === undefined ? '' : ` loss ${p.loss.toFixed(4)}`);
const etaOf = (p: pb.AdaptProgress) => etaText(p.step, p.steps, (p.etaSeconds ?? Number.NaN) * 1000);

export function adaptReporter(mode: 'bar' | 'lines' | 'json'): AdaptReporter {
  if (mode === 'json')
    return {
      progress: (p) =>
        process.stdout.write(
          `${JSON.stringify({ event: 'progress', phase: p.phase, step: p.step, steps: p.steps, loss: p.loss, etaSeconds: p.etaSeconds })}\n`,
        ),
      stop: () => {},
    };
  if (mode === 'lines') return linesReporter();
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} |{bar}| {value}/{total}{loss} | ETA {timeLeft}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    progress: (p) => {
      const payload = { phase: phaseText(p.phase), loss: lossText(p), timeLeft: etaOf(p) };
      if (!started) bar.start(Math.max(1, p.steps), p.step, payload);
      started = true;
      bar.setTotal(Math.max(1, p.steps));
      bar.update(p.step, payload);
    },
    stop: () => bar.stop(),
  };
}

function linesReporter(): AdaptReporter {
  let phase = '';
  let tenth = -1;
  return {
    progress: (p) => {
      const now = p.steps > 0 ? Math.floor((10 * p.step) / p.steps) : 0;
      if (p.phase === phase && (p.phase !== 'training' || now === tenth)) return;
      phase = p.phase;
      tenth = now;
      const counted = p.phase === 'training' ? ` step ${p.step}/${p.steps}${lossText(p)}, ETA ${etaOf(p)}` : '';
      process.stderr.write(`glomseg: ${phaseText(p.phase)}${counted}\n`);
    },
    stop: () => {},
  };
}

/** The figures a lab reads: held-out mean image Dice and F1, before and after. */
export function describeAdaptResult(result: pb.AdaptResult): string {
  const f = (h: pb.HeldOutFigures | undefined) =>
    `mean image Dice ${(h?.meanImageDice ?? 0).toFixed(3)}, F1 ${(h?.f1 ?? 0).toFixed(3)}`;
  return [
    `new model version ${result.model?.id} (from ${result.parentId}${result.isDefault ? ', now the default' : ''})`,
    `  trained on ${result.trainedRegions} regions, ${result.steps} steps in ${Math.round(result.trainingSeconds)} s`,
    `  held out ${result.heldOutRegions} regions: before ${f(result.before)}; after ${f(result.after)}`,
    result.isDefault
      ? `  roll back with: glomseg models rollback ${result.parentId}`
      : `  use it with --model ${result.model?.id}, or make it the default: glomseg models default ${result.model?.id}`,
  ].join('\n');
}
