/**
 * The glomseg viewer plugin: import this module once to register <glomseg-overlay> and <glomseg-viewer>.
 */
export { GlomsegOverlay } from './overlay.js';
export { GlomsegViewer } from './viewer.js';
export { GlomsegPanel, type PanelState, type PanelInput } from './components/panel/glomseg-panel.js';
export * from './events.js';
export type { LiveDiceMetrics, PredictionClass, TruthClass } from './dice-panel.js';
export type { LoadedAnnotations } from './annotation-source.js';
export type { PixelOrigin } from './slide-frame.js';
export type { RequestHeaders } from './glomseg-client.js';
export { PredictionLayer, type PredictionSettings, type PredictionLayerEvents, type PredictionSession } from './layers/prediction-layer.js';
export { AnnotationLayer, type AnnotationInput } from './layers/annotation-layer.js';
