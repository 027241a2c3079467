// The gate of training/int8_variant.sh: compares the fp32 and int8 figures it measured and, when every one is within
// the tolerance, names the int8 file as the card's `variants.cpu`; the figures go to metrics.int8 either way.
//   node training/int8_gate.mjs CARD.json INT8_FILE OUT TOLERANCE [FLOAT_PREFIXES]
// FLOAT_PREFIXES: quantize_int8.py --float's list (the nodes kept float), recorded with the method.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [cardPath, int8File, out, toleranceArg, floatPrefixes = ''] = process.argv.slice(2);
const tolerance = Number(toleranceArg);
const read = (file) => JSON.parse(readFileSync(path.join(out, file), 'utf8'));
const figures = (kind) => {
  const validation = read(`validation-${kind}/metrics.json`).overall;
  const otherLabs = read(`other-labs-${kind}/metrics.json`).overall;
  return {
    validationDice: validation.globalDice,
    validationMeanTileDice: validation.meanTileDice,
    otherLabsMeanImageDice: otherLabs.meanImageDice,
    otherLabsF1: otherLabs.f1,
  };
};
const fp32 = figures('fp32');
const int8 = figures('int8');
const rows = Object.keys(fp32).map((key) => ({ key, fp32: fp32[key], int8: int8[key], diff: int8[key] - fp32[key] }));
const passed = rows.every((r) => Math.abs(r.diff) <= tolerance);
console.log('| figure | fp32 | int8 | int8 - fp32 |\n| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.key} | ${r.fp32.toFixed(4)} | ${r.int8.toFixed(4)} | ${r.diff.toFixed(4)} |`);
const card = JSON.parse(readFileSync(cardPath, 'utf8'));
const variants = { ...card.variants };
if (passed) variants.cpu = int8File;
else delete variants.cpu;
card.variants = variants;
const ranges = JSON.parse(readFileSync(path.join(out, 'ranges.json'), 'utf8'));
const clipped = (ranges.percentile ?? 100) < 100; // calibrate_int8.mjs --percentile below 100
const keptFloat = floatPrefixes ? floatPrefixes.split(',') : [];
card.metrics = {
  ...card.metrics,
  int8: {
    file: int8File,
    method:
      `static QDQ: uint8 activations (${clipped ? `percentile ${ranges.percentile} ranges` : 'min/max'}), ` +
      'int8 per-channel weights; training/quantize_int8.py' +
      (keptFloat.length > 0 ? `; kept float: the nodes named ${keptFloat.join(', ')}* and the logits` : ''),
    calibrationTiles: ranges.tiles,
    keptFloat,
    tolerance,
    selectedForCpu: passed,
    fp32,
    int8,
    command:
      `${clipped ? `CALIB_PERCENTILE=${ranges.percentile} ` : ''}` +
      `${floatPrefixes ? `INT8_FLOAT=${floatPrefixes} ` : ''}bash training/int8_variant.sh MODEL_FOLDER`,
  },
};
writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
console.log(
  passed
    ? `every figure within ${tolerance}: ${int8File} is ${cardPath}'s variants.cpu`
    : `not within ${tolerance}: variants.cpu left unset`,
);
