// Writes what `glomseg score` measured into the model card, so the card states the product's own figures:
//   node training/record_metrics.mjs CARD --validation VAL/metrics.json --eval EVAL/metrics.json --machine "..."
// --validation: training/score_validation.sh's output (the model's validation tiles);
// --eval: `glomseg score` of the eval region with its annotations (see the README).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { validation: { type: 'string' }, eval: { type: 'string' }, machine: { type: 'string' } },
});
if (positionals.length !== 1 || (!values.validation && !values.eval)) {
  console.error('usage: node training/record_metrics.mjs CARD [--validation metrics.json] [--eval metrics.json] [--machine TEXT]');
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
if (values.validation) {
  card.metrics.validationProduct = {
    tiles: 'the validation tiles of metrics.validation, scored whole at level 0 by the product',
    command: 'bash training/score_validation.sh MODEL_FOLDER OUT',
    ...figures(values.validation),
  };
}
if (values.eval) {
  card.metrics.evalRegion = {
    slide: 'shared/data/hubmap-vu/eval-region/kidney-region.tif (held out: never used for training, tuning or checkpoint picking)',
    command: 'npm run glomseg -- score ../shared/data/hubmap-vu/eval-region/kidney-region.tif --annotations ../shared/data/hubmap-vu/eval-region/kidney-region.geojson --out OUT',
    ...figures(values.eval),
  };
}
writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
console.log(`recorded ${[values.validation && 'validationProduct', values.eval && 'evalRegion'].filter(Boolean).join(' and ')} in ${cardPath}`);
