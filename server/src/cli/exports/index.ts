/** Every export of a batch folder, registered by importing its file (registry.ts): a new export is one file and its line here. */
import './geojson.js';
import './submission-csv.js';
import './metrics-json.js';
import './report-html.js';

export * from './registry.js';
export { SUBMISSION_FILE } from './submission-csv.js';
export { METRICS_FILE } from './metrics-json.js';
