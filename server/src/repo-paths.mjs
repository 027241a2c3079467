// The repository and the read-only data folder beside it (../shared/data), found from this file's place, never
// from the working directory. Plain JavaScript so that training's .mjs scripts share it with the server and tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS = path.join(REPO_ROOT, 'models');
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const HUBMAP_VU = path.join(SHARED_DATA, 'hubmap-vu');
export const EVAL_REGION = path.join(HUBMAP_VU, 'eval-region');
// The real 6400 x 4800 eval region of HuBMAP slide A (about 0.5 um/px), held out from training.
export const EVAL_REGION_SLIDE = path.join(EVAL_REGION, 'kidney-region.tif');
export const EVAL_REGION_GEOJSON = path.join(EVAL_REGION, 'kidney-region.geojson');
export const WSI = path.join(SHARED_DATA, 'wsi');
