/**
 * ONNX Runtime's CPU provider: always there, the last resort of `auto`. It loads the card's `variants.cpu` where
 * there is one: the int8 copy that training/int8_variant.sh names only when its figures match fp32's.
 */
import { registerExecutionProvider } from '../provider-registry.js';

registerExecutionProvider({
  name: 'cpu',
  label: 'CPU',
  priority: 100,
  usesGpu: false,
  modelVariant: 'cpu',
  unavailable: () => undefined,
  sessionOptions: () => ['cpu'],
  // ScoreSlide's 896² windows and StreamTiles' 384² tiles share a session: a memory pattern kept per input shape held
  // both windows' worth in each worker (npm run bench -- --quick, int8@score: peak RSS 1,070 -> 886 MB, speed the
  // same). Turning the arena off instead halved the speed.
  memoryOptions: { enableMemPattern: false },
});
