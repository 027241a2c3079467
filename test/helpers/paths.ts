/** Paths tests share: the repository, its models and the read-only data beside it, from server/src/repo-paths.mjs. */
import { EVAL_REGION_GEOJSON, SHARED_DATA } from '../../server/src/repo-paths.mjs';

export { EVAL_REGION, MODELS, REPO_ROOT, WSI } from '../../server/src/repo-paths.mjs';
export const DATA = SHARED_DATA;
export const KIDNEY_REGION_GEOJSON = EVAL_REGION_GEOJSON;
