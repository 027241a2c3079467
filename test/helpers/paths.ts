/** Paths tests share: the repository, its models, and the read-only data beside it. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MODELS = path.join(REPO_ROOT, 'models');
export const DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const EVAL_REGION = path.join(DATA, 'hubmap-vu', 'eval-region');
export const WSI = path.join(DATA, 'wsi');
export const KIDNEY_REGION_GEOJSON = path.join(EVAL_REGION, 'kidney-region.geojson');
