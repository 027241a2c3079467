/** Model loading and inference at the edge: the models folder and the ONNX Runtime segmenter. */
export { DEFAULT_MODEL_ID, ModelRegistry, type ModelRegistryOptions, type RegisteredModel } from './model-registry.js';
export { OnnxSegmenter, type OnnxSegmenterOptions, type SegmenterStats } from './onnx-segmenter.js';
export {
  CUDA_NOT_INSTALLED_MESSAGE,
  WEBGPU_NO_ADAPTER_MESSAGE,
  cudaProviderInstalled,
  deviceChoices,
  registerExecutionProvider,
  type ExecutionProvider,
  type DeviceChoice,
  type InferenceDevice,
} from './execution-providers.js';
