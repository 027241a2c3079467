/**
 * Runs once before any test file: builds the viewer plugin bundle if it is missing or stale. Without it every test
 * file that starts a web server would build the same bundle at once on a fresh clone, dozens of esbuild runs racing
 * on two cores; one of them once stalled a test past its timeout.
 */
import { ensurePluginBundle } from '../server/src/web/plugin-bundle.js';

export default async function setup(): Promise<void> {
  await ensurePluginBundle();
}
