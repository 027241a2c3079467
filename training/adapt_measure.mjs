// The figures of training/adapt_measure.sh, from the files it wrote (every Dice and F1 is the product's own, from
// `glomseg score`): C003 before and after, the adaptation's wall time (/usr/bin/time -v around adapt.py, or around
// `glomseg adapt` with VIA=server) and peak RSS (the trainer's), its steps and held-out regions, the eval region
// after (and before: scored with EVAL_BEFORE=1, else the parent card's record).
//   node training/adapt_measure.mjs OUT MODEL_FOLDER     -> JSON on stdout
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [out, models] = process.argv.slice(2);
if (!out || !models) {
  console.error('usage: node training/adapt_measure.mjs OUT MODEL_FOLDER');
  process.exit(2);
}
const read = (file) => JSON.parse(readFileSync(path.join(out, file), 'utf8'));
const round = (v) => (typeof v === 'number' ? Math.round(v * 10000) / 10000 : v);

/** mean image Dice, F1 and the counts of an other_labs.mjs summary. */
function otherLab(file) {
  const o = read(file).overall;
  const keys = ['images', 'glomeruli', 'truePositives', 'falsePositives', 'falseNegatives'];
  return {
    meanImageDice: o.meanImageDice,
    f1: o.f1,
    precision: o.precision,
    recall: o.recall,
    ...Object.fromEntries(keys.map((k) => [k, o[k]])),
  };
}

/** global Dice, mean tile Dice and F1 of a `glomseg score` run's overall figures (or a card's record of one). */
function evalFigures(o) {
  const keys = ['globalDice', 'meanTileDice', 'f1', 'truePositives', 'falsePositives', 'falseNegatives'];
  return o && Object.fromEntries(keys.map((k) => [k, round(o[k] ?? o[k === 'f1' ? 'objectF1' : k])]));
}

function evalRegion(folder) {
  const file = path.join(out, folder, 'metrics.json');
  return existsSync(file) ? evalFigures(read(path.join(folder, 'metrics.json')).overall) : undefined;
}

/** Wall seconds and peak RSS of the adaptation process, from GNU time's verbose report. */
function timing() {
  const text = readFileSync(path.join(out, 'adapt-time.txt'), 'utf8');
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(text)?.[1] ?? '';
  const seconds = wall.split(':').reduce((total, part) => total * 60 + Number(part), 0);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(text)?.[1]);
  const cpu = ['User', 'System'].map((k) => Number(new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(text)?.[1]));
  return { wallSeconds: round(seconds), peakRssMB: Math.round(rss / 102.4) / 10, cpuSeconds: round(cpu[0] + cpu[1]) };
}

const withoutType = ({ $typeName, ...figures }) => figures;
const lines = readFileSync(path.join(out, 'adapt-progress.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
const done = lines.at(-1); // adapt.py's last line, or `glomseg adapt --progress json`'s result
const viaServer = done.event === 'result';
const card = read('adapted-card.json');
const trainer = card.provenance.adaptation.trainer;
const parent = JSON.parse(readFileSync(path.join(models, 'glomseg-unet.json'), 'utf8'));
const loadOf = (file) => readFileSync(path.join(out, file), 'utf8').split(' ').slice(0, 3).map(Number);
const result = {
  what: 'issue 30: H&E biopsies as a new lab; adapt on C001, C002, C004; score C003 through glomseg score',
  parent: parent.id,
  adapted: card.id,
  corrections: {
    trainedRegions: card.provenance.adaptation.trainedRegions,
    trainedGlomeruli: card.provenance.adaptation.trainedGlomeruli,
    heldOut: card.provenance.adaptation.heldOutIds,
  },
  c003: {
    // SKIP_BEFORE=1 leaves the parent's C003 scores out (not scored: undefined).
    before: existsSync(path.join(out, 'c003-before/metrics.json')) ? otherLab('c003-before/metrics.json') : undefined,
    after: otherLab('c003-after/metrics.json'),
  },
  adaptation: {
    via: viaServer ? 'glomseg annotations import + glomseg adapt (AdaptModel)' : 'training/adapt.py',
    steps: done.steps,
    trainingSeconds: viaServer ? round(done.trainingSeconds) : done.seconds,
    ...timing(),
    // Through the server GNU time sees the CLI, not the trainer: its wall time is the call's, its RSS and CPU are not.
    ...(viaServer
      ? {
          wallSecondsOf: 'the whole glomseg adapt call',
          peakRssMB: trainer.peakRssMB,
          cpuSeconds: undefined,
          heldOutBefore: withoutType(done.before),
          heldOutAfter: withoutType(done.after),
        }
      : {}),
    recipe: trainer.recipe,
  },
  evalRegion: {
    before: evalRegion('eval-before') ?? { ...evalFigures(parent.metrics?.evalRegion), from: 'the parent card' },
    after: evalRegion('eval-after'),
  },
  machine: {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    loadAverageBefore: loadOf('load-before.txt'),
    loadAverageAfter: loadOf('load-after.txt'),
    date: new Date().toISOString(),
  },
};
console.log(JSON.stringify(result, null, 2));
