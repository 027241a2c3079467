/** The CLI's default locations: the repository's models/ and the demo slides in the data folder beside it. */
import { EVAL_REGION, EVAL_REGION_GEOJSON, MODELS, WSI } from '../repo-paths.mjs';

export { REPO_ROOT, SHARED_DATA } from '../repo-paths.mjs';
export const DEFAULT_MODEL_FOLDER = MODELS;
export const DEMO_SLIDE_FOLDER = EVAL_REGION;
export const DEMO_SLIDE_ID = 'kidney-region.tif';
export const DEMO_ANNOTATIONS = EVAL_REGION_GEOJSON;
export const DEFAULT_SLIDE_FOLDERS = [EVAL_REGION, WSI];
