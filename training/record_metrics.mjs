// Writes what `glomseg score` measured into the model card, so the card states the product's own figures:
//   node training/record_metrics.mjs CARD [--threshold P] --validation VAL/metrics.json \
//     --validation-pyramid VALPYR/metrics.json --eval EVAL/metrics.json --machine "..."
// --threshold: the threshold chosen on product-level validation, replacing the one training picked at model scale
// (the earlier value is kept in metrics.validation.trainingThreshold); record before scoring with it;
// --seed-threshold P: the probability of the cores touching glomeruli are parted between (card seedThreshold,
// shared/src/separate-touching.ts), chosen the same way; 'none' removes it;
// --require-core yes|no: the card's requireCore (a blob must reach the seed threshold somewhere), chosen the same way;
// --min-area A: the card's minArea (level-0 px^2 at the training scans' pixel size), chosen the same way;
// --validation: training/score_validation.sh's output (the model's validation tiles);
// --validation-pyramid: the same with --pyramid (the tiles as read from a sharp JPEG pyramid level);
// --eval: `glomseg score` of the eval region with its annotations (see the README);
// --stress FILE (repeatable): training/score_validation.sh --stress's OUT/stress.json, one per stain normalisation;
// --other-labs FILE (repeatable): training/score_validation.sh --other-labs's OUT/metrics.json (another hospital's
// images, mean image Dice and object figures per patient and overall), one per set, into metrics.otherLabs.<set>.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threshold: { type: 'string' },
    'seed-threshold': { type: 'string' },
    'min-area': { type: 'string' },
    'require-core': { type: 'string' },
    validation: { type: 'string' },
    'validation-pyramid': { type: 'string' },
    eval: { type: 'string' },
    stress: { type: 'string', multiple: true },
    'other-labs': { type: 'string', multiple: true },
    machine: { type: 'string' },
  },
});
const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
const seedOption = values['seed-threshold'];
const minArea = values['min-area'] === undefined ? undefined : Number(values['min-area']);
const seedThreshold = seedOption === undefined || seedOption === 'none' ? undefined : Number(seedOption);
const coreOption = values['require-core'];
if (
  positionals.length !== 1 ||
  (!values.validation &&
    !values['validation-pyramid'] &&
    !values.eval &&
    !values.stress &&
    !values['other-labs'] &&
    threshold === undefined &&
    seedOption === undefined &&
    minArea === undefined &&
    coreOption === undefined) ||
  (threshold !== undefined && !(threshold > 0 && threshold < 1)) ||
  (seedThreshold !== undefined && !(seedThreshold > 0 && seedThreshold <= 1)) ||
  (minArea !== undefined && !(minArea >= 0)) ||
  (coreOption !== undefined && coreOption !== 'yes' && coreOption !== 'no')
) {
  console.error(
    'usage: node training/record_metrics.mjs CARD [--threshold P (0..1)] [--seed-threshold P|none] [--require-core yes|no] [--min-area A] [--validation metrics.json] ' +
      '[--validation-pyramid metrics.json] [--eval metrics.json] [--stress stress.json ...] [--other-labs metrics.json ...] [--machine TEXT]',
  );
  process.exit(2);
}
const cardPath = positionals[0];
const card = JSON.parse(readFileSync(cardPath, 'utf8'));
const round = (v) => Math.round(v * 10000) / 10000;

function figures(metricsPath) {
  const { overall, slides } = JSON.parse(readFileSync(metricsPath, 'utf8'));
  if (!overall) throw new Error(`${metricsPath} has no overall metrics: were the slides scored with --annotations?`);
  const seconds = slides.reduce((total, s) => total + (s.elapsedMs ?? 0), 0) / 1000;
  return {
    globalDice: round(overall.globalDice),
    meanTileDice: round(overall.meanTileDice),
    diceTile: `${overall.diceTileWidth}x${overall.diceTileHeight}`,
    objectPrecision: round(overall.precision),
    objectRecall: round(overall.recall),
    objectF1: round(overall.f1),
    truePositives: overall.truePositives,
    falsePositives: overall.falsePositives,
    falseNegatives: overall.falseNegatives,
    slides: slides.length,
    scoreSeconds: Math.round(seconds * 10) / 10,
    machine: values.machine ?? 'not stated',
  };
}

card.metrics ??= {};
const recorded = [];
if (threshold !== undefined) {
  card.metrics.validation ??= {};
  card.metrics.validation.trainingThreshold ??= card.threshold;
  card.threshold = threshold;
  recorded.push(`threshold ${threshold}`);
}
if (seedOption !== undefined) {
  if (seedThreshold === undefined) delete card.seedThreshold;
  else card.seedThreshold = seedThreshold;
  recorded.push(`seedThreshold ${seedOption}`);
}
if (coreOption !== undefined) {
  if (coreOption === 'yes') card.requireCore = true;
  else delete card.requireCore;
  recorded.push(`requireCore ${coreOption}`);
}
if (minArea !== undefined) {
  card.minArea = minArea;
  recorded.push(`minArea ${minArea}`);
}
// Which `glomseg score` output goes where in card.metrics, and what was scored.
const sections = [
  {
    option: 'validation',
    key: 'validationProduct',
    about: {
      tiles: 'the validation tiles of metrics.validation, scored whole at level 0 by the product',
      command: 'bash training/score_validation.sh MODEL_FOLDER OUT',
    },
  },
  {
    option: 'validation-pyramid',
    key: 'validationProductPyramid',
    about: {
      tiles: 'the same validation tiles as read from a Lanczos JPEG (q90) pyramid level at the model scale',
      command: 'bash training/score_validation.sh --pyramid MODEL_FOLDER OUT',
    },
  },
  {
    option: 'eval',
    key: 'evalRegion',
    about: {
      slide:
        'shared/data/hubmap-vu/eval-region/kidney-region.tif (held out: never used for training, tuning or checkpoint picking)',
      command:
        'npm run glomseg -- score ../shared/data/hubmap-vu/eval-region/kidney-region.tif --annotations ../shared/data/hubmap-vu/eval-region/kidney-region.geojson --out OUT',
    },
  },
];
for (const { option, key, about } of sections) {
  if (!values[option]) continue;
  card.metrics[key] = {
    ...about,
    threshold: card.threshold,
    seedThreshold: card.seedThreshold ?? null,
    requireCore: card.requireCore ?? false,
    minArea: card.minArea,
    ...figures(values[option]),
  };
  recorded.push(key);
}
// Stress validation: Dice per transformation beside the plain figure, for each stain normalisation scored.
for (const file of values.stress ?? []) {
  const { stainNormalization: asked, rows } = JSON.parse(readFileSync(file, 'utf8'));
  // 'auto' is whatever this card names.
  const stainNormalization = asked === 'auto' ? (card.stain?.method ?? 'off') : asked;
  const plain = rows.find((r) => r.name === 'plain');
  card.metrics.stressValidation ??= {
    about:
      'the validation tiles under fixed, seeded transformations (training/stress_validation_tiles.py), scored by the product',
    command: 'STAIN=<normalisation> bash training/score_validation.sh --stress MODEL_FOLDER OUT',
    machine: values.machine ?? 'not stated',
  };
  card.metrics.stressValidation[stainNormalization] = Object.fromEntries(
    rows.map((r) => [
      r.name,
      {
        mpp: r.mpp,
        globalDice: round(r.globalDice),
        vsPlain: round(r.globalDice - plain.globalDice),
        meanTileDice: round(r.meanTileDice),
        objectF1: round(r.f1),
      },
    ]),
  );
  recorded.push(`stressValidation.${stainNormalization}`);
}
// Other labs' images (never trained on): the product's mean image Dice and object figures, per patient and overall.
for (const file of values['other-labs'] ?? []) {
  const result = JSON.parse(readFileSync(file, 'utf8'));
  if (!result.set || !result.overall || !result.patients)
    throw new Error(`${file} is not training/score_validation.sh --other-labs output`);
  // The card must state the post-processing the figures were made with.
  if (result.threshold !== card.threshold) {
    throw new Error(
      `${file} was scored at threshold ${result.threshold}, the card says ${card.threshold}: score it again with the card's`,
    );
  }
  card.metrics.otherLabs ??= {};
  card.metrics.otherLabs[result.set] = {
    about: result.about,
    command: result.command,
    images: `shared/data/other-labs/${result.set} (validation and model choice only, never trained on)`,
    stainNormalization:
      result.stainNormalization === 'auto' ? (card.stain?.method ?? 'off') : result.stainNormalization,
    threshold: card.threshold,
    seedThreshold: card.seedThreshold ?? null,
    requireCore: card.requireCore ?? false,
    minArea: card.minArea,
    overall: result.overall,
    patients: result.patients,
    machine: values.machine ?? 'not stated',
  };
  recorded.push(`otherLabs.${result.set}`);
}
writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
console.log(`recorded ${recorded.join(', ')} in ${cardPath}`);
