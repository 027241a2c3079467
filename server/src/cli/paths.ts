/** Default locations, relative to the repository (models/) and the data folder beside it (../shared/data). */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_MODEL_FOLDER = path.join(REPO_ROOT, 'models');
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const DEMO_SLIDE_FOLDER = path.join(SHARED_DATA, 'hubmap-vu', 'eval-region');
export const DEMO_SLIDE_ID = 'kidney-region.tif';
export const DEMO_ANNOTATIONS = path.join(DEMO_SLIDE_FOLDER, 'kidney-region.geojson');
export const DEFAULT_SLIDE_FOLDERS = [DEMO_SLIDE_FOLDER, path.join(SHARED_DATA, 'wsi')];
