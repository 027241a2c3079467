// Extracts nsfwjs's Keras MobileNetV2 (dist/models/mobilenet_v2: the topology and the one weight shard, each a
// base64 or JSON payload inside a UMD wrapper) from node_modules into a folder as a tfjs layers model:
// model.json (topology + weightsManifest, paths -> weights.bin) and weights.bin (the shard's raw bytes, uint8-quantised).
//   node training/nsfwjs_mobilenet_v2.mjs OUT_DIR
// mobilenet_v2_from_nsfwjs.py reads the folder; the parity test loads it with @tensorflow/tfjs.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// The package's exports map hides dist/models, so it is read by path from the repository's node_modules.
const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'nsfwjs');
const DIR = 'dist/models/mobilenet_v2';

export function readNsfwjsMobileNetV2() {
  const model = require(path.join(PACKAGE, DIR, 'model.min.js'));
  const shard = require(path.join(PACKAGE, DIR, 'group1-shard1of1.min.js'));
  const weights = Buffer.from(typeof shard === 'string' ? shard : shard.default, 'base64');
  const version = require(path.join(PACKAGE, 'package.json')).version;
  return { modelTopology: model.modelTopology, weightsManifest: model.weightsManifest, weights, version };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node training/nsfwjs_mobilenet_v2.mjs OUT_DIR');
  const { modelTopology, weightsManifest, weights, version } = readNsfwjsMobileNetV2();
  const expected = weightsManifest[0].weights.reduce(
    (n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (w.quantization ? 1 : 4),
    0,
  );
  if (weightsManifest.length !== 1 || weights.length !== expected) {
    throw new Error(`nsfwjs ${version}: weight shard of ${weights.length} bytes, manifest wants ${expected}`);
  }
  mkdirSync(out, { recursive: true });
  const manifest = weightsManifest.map((group) => ({ ...group, paths: ['weights.bin'] }));
  writeFileSync(
    path.join(out, 'model.json'),
    JSON.stringify({ modelTopology, weightsManifest: manifest, source: `nsfwjs@${version} ${DIR}` }),
  );
  writeFileSync(path.join(out, 'weights.bin'), weights);
  console.log(
    `nsfwjs@${version} MobileNetV2: ${weightsManifest[0].weights.length} tensors, ${weights.length} bytes -> ${out}`,
  );
}
