/**
 * The glomseg viewer plugin: import this module once to register <glomseg-overlay> and <glomseg-viewer>.
 */
export { GlomsegOverlay } from './overlay.js';
export { GlomsegViewer } from './viewer.js';
export * from './events.js';
export type { LiveDiceMetrics, PredictionClass, TruthClass } from './dice-panel.js';
export type { LoadedAnnotations } from './annotation-source.js';
export type { PixelOrigin } from './slide-frame.js';
export type { RequestHeaders } from './glomseg-client.js';
