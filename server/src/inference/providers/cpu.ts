/** ONNX Runtime's CPU provider: always there, the last resort of `auto`. */
import { registerExecutionProvider } from '../provider-registry.js';

registerExecutionProvider({
  name: 'cpu',
  label: 'CPU',
  priority: 100,
  usesGpu: false,
  unavailable: () => undefined,
  sessionOptions: () => ['cpu'],
});
