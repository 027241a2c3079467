// Worker threads do not inherit the parent's `--import tsx` loader, and vitest does not use it at all, so
// register tsx here and then load the TypeScript worker (piscina calls this module's default export).
import { register } from 'tsx/esm/api';

register();
const worker = await import('./scoring-worker.ts');
export default worker.default;
