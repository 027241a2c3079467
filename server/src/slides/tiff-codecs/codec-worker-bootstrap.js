// Worker threads do not inherit the parent's `--import tsx` loader, and vitest does not use it at all, so
// register tsx here and then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./codec-worker.ts');
