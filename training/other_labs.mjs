// The other-lab validation of `training/score_validation.sh --other-labs`: which images to score at which pixel
// size, and what the product's own scores of them add up to, per patient and overall.
//   node --import tsx training/other_labs.mjs plan SET OUT [--tiles "ID ID ..."]
//     writes OUT/lists/mpp-<um>.txt (one image path a line, the `--list` of one `glomseg score` run, as that run
//     takes one --mpp) and prints "<um> <list file>" for each pixel size in SET/tiles.csv;
//   node --import tsx training/other_labs.mjs summarise SET OUT [--tiles ...] [--models DIR] [--stain S] [--threshold P]
//     reads OUT/scores/mpp-<um>/metrics.json, writes OUT/metrics.json and prints a Markdown table.
// SET is an other-labs/<set> folder: tiles.csv (tile_id, case, glomeruli, um_per_px), <tile_id>.png (or another
// image the product reads) and <tile_id>.geojson (or any annotation file `--annotations` matches by name). Every figure comes from `glomseg score`: an image's Dice is the product's whole-image Dice
// (1 when neither prediction nor truth has a pixel), and object counts are its IoU >= 0.5 one-to-one matches;
// groups are pooled with the product's own poolDiceMetrics. These images are for validation and model choice only.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { poolDiceMetrics } from '@glomseg/shared/dice.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tiles: { type: 'string' },
    models: { type: 'string' },
    stain: { type: 'string' },
    threshold: { type: 'string' },
  },
});
const [command, setArg, outArg] = positionals;
if (!['plan', 'summarise'].includes(command) || !setArg || !outArg || positionals.length !== 3) {
  console.error(
    'usage: node --import tsx training/other_labs.mjs plan|summarise SET OUT [--tiles "ID ..."] [--models DIR] [--stain S] [--threshold P]',
  );
  process.exit(2);
}
const set = path.resolve(setArg);
const out = path.resolve(outArg);

function fail(message) {
  console.error(`other-labs: ${message}`);
  process.exit(1);
}

const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'tif', 'tiff'];

/** The tile's image in SET: the first of <id>.png, .jpg, ... that exists (the .png path, to name in errors, if none). */
function imageOf(id) {
  const candidates = IMAGE_EXTENSIONS.map((ext) => path.join(set, `${id}.${ext}`));
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** tiles.csv rows, limited to --tiles (ids, spaces or commas) when given; each must state its pixel size. */
function readTiles() {
  const csv = path.join(set, 'tiles.csv');
  if (!existsSync(csv)) fail(`${csv} not found: SET must be an other-labs/<set> folder`);
  const [header, ...lines] = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
  const columns = header.split(',').map((c) => c.trim());
  for (const c of ['tile_id', 'case', 'glomeruli', 'um_per_px'])
    if (!columns.includes(c)) fail(`${csv} has no ${c} column`);
  const rows = lines
    .filter((l) => l.trim())
    .map((line) => {
      const cells = line.split(',').map((c) => c.trim());
      const row = Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
      const mpp = Number(row.um_per_px);
      if (!(mpp > 0)) fail(`${csv}: tile ${row.tile_id} has no valid um_per_px (${row.um_per_px})`);
      return { id: row.tile_id, patient: row.case, glomeruli: Number(row.glomeruli), mpp, image: imageOf(row.tile_id) };
    });
  const wanted = values.tiles?.split(/[\s,]+/).filter(Boolean);
  if (!wanted) return rows;
  const unknown = wanted.filter((id) => !rows.some((r) => r.id === id));
  if (unknown.length > 0) fail(`--tiles names tiles that ${csv} does not list: ${unknown.join(', ')}`);
  return rows.filter((r) => wanted.includes(r.id));
}

/** One group per pixel size, in first-seen order: `glomseg score` takes one --mpp a run. */
function groups(tiles) {
  const byMpp = new Map();
  for (const t of tiles) byMpp.set(t.mpp, [...(byMpp.get(t.mpp) ?? []), t]);
  return byMpp;
}

const tiles = readTiles();
if (tiles.length === 0) fail('no tiles to score');

if (command === 'plan') {
  mkdirSync(path.join(out, 'lists'), { recursive: true });
  for (const [mpp, group] of groups(tiles)) {
    for (const t of group) if (!existsSync(t.image)) fail(`${t.image} not found`);
    const list = path.join(out, 'lists', `mpp-${mpp}.txt`);
    writeFileSync(list, `${group.map((t) => t.image).join('\n')}\n`);
    console.log(`${mpp} ${list}`);
  }
  process.exit(0);
}

const round = (v) => Math.round(v * 10000) / 10000;

// summarise: the product's per-image results of this run's images only (a reused OUT may hold others).
const images = [];
for (const [mpp, group] of groups(tiles)) {
  const metricsFile = path.join(out, 'scores', `mpp-${mpp}`, 'metrics.json');
  if (!existsSync(metricsFile)) fail(`${metricsFile} not found: was the image group at ${mpp} um/px scored?`);
  const { slides } = JSON.parse(readFileSync(metricsFile, 'utf8'));
  for (const t of group) {
    const s = slides.find((x) => x.file === t.image);
    if (!s?.ok) fail(`${t.id}: not scored (${s ? `${s.status}: ${s.error ?? ''}` : 'absent from the batch'})`);
    if (!s.metrics) fail(`${t.id}: scored without ground truth (is ${t.id}.geojson in ${set}?)`);
    // The pixel size must be the one tiles.csv states, as the product read it (not a default or an estimate).
    if (s.scale?.mpp !== mpp || s.scale?.source !== 'request')
      fail(`${t.id}: read at ${JSON.stringify(s.scale)}, not at --mpp ${mpp}`);
    const m = s.metrics;
    const truth = m.truePositives + m.falseNegatives;
    // The product read every labelled glomerulus (a truth-class or parsing change would show here first).
    if (truth !== t.glomeruli) fail(`${t.id}: the product read ${truth} true glomeruli, tiles.csv says ${t.glomeruli}`);
    images.push({ tile: t.id, patient: t.patient, mpp, metrics: m });
  }
}

/** Mean image Dice plus the product's pooled figures of a group of images. */
function figures(group) {
  const pooled = poolDiceMetrics(group.map((i) => i.metrics));
  return {
    images: group.length,
    glomeruli: pooled.truePositives + pooled.falseNegatives,
    predicted: pooled.truePositives + pooled.falsePositives,
    truePositives: pooled.truePositives,
    falsePositives: pooled.falsePositives,
    falseNegatives: pooled.falseNegatives,
    meanImageDice: round(group.reduce((total, i) => total + i.metrics.globalDice, 0) / group.length),
    globalDice: round(pooled.globalDice),
    precision: round(pooled.precision),
    recall: round(pooled.recall),
    f1: round(pooled.f1),
  };
}

const patients = [...new Set(images.map((i) => i.patient))].sort();
const models = values.models ? path.resolve(values.models) : undefined;
// Relative to the repository (the shell script runs from there) when inside it, so a card does not name this machine's paths.
const shown = (p) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p) || '.');
const card =
  models && existsSync(path.join(models, 'glomseg-unet.json'))
    ? JSON.parse(readFileSync(path.join(models, 'glomseg-unet.json'), 'utf8'))
    : undefined;
const result = {
  set: path.basename(set),
  about:
    "other-lab images scored one by one by `glomseg score` at the pixel size tiles.csv states; meanImageDice: the mean over images of each image's Dice (1 when neither prediction nor truth); precision, recall, F1: objects matched at IoU >= 0.5 one to one, pooled; globalDice: pixels pooled",
  command: `bash training/score_validation.sh --other-labs MODEL_FOLDER OUT${values.tiles ? ` (OTHER_LABS_TILES="${values.tiles}")` : ''}`,
  model: card
    ? { folder: shown(models), id: card.id, name: card.name, file: card.file }
    : models
      ? { folder: shown(models) }
      : null,
  stainNormalization: values.stain ?? 'auto',
  threshold: values.threshold ? Number(values.threshold) : (card?.threshold ?? null),
  overall: figures(images),
  patients: Object.fromEntries(patients.map((p) => [p, figures(images.filter((i) => i.patient === p))])),
  perImage: images.map(({ tile, patient, mpp, metrics: m }) => ({
    tile,
    patient,
    mpp,
    dice: round(m.globalDice),
    glomeruli: m.truePositives + m.falseNegatives,
    predicted: m.truePositives + m.falsePositives,
    truePositives: m.truePositives,
    falsePositives: m.falsePositives,
    falseNegatives: m.falseNegatives,
  })),
};
writeFileSync(path.join(out, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);

const f = (v) => v.toFixed(3);
console.log(
  '| patient | images | glomeruli | found (TP) | false positives | mean image Dice | precision | recall | F1 |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [name, r] of [...Object.entries(result.patients), ['all', result.overall]]) {
  console.log(
    `| ${name === 'all' ? '**all**' : name} | ${r.images} | ${r.glomeruli} | ${r.truePositives} | ${r.falsePositives} | ${f(r.meanImageDice)} | ${f(r.precision)} | ${f(r.recall)} | ${f(r.f1)} |`,
  );
}
