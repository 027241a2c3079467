/**
 * The glomseg viewer plugin: import this module once to register <glomseg-overlay>, <glomseg-viewer> and
 * <glomseg-panel> (each component's registration file defines it; see internal/glomseg-element.ts).
 */
export { default as GlomsegOverlay } from './components/overlay/glomseg-overlay.js';
export { default as GlomsegViewer } from './components/viewer/glomseg-viewer.js';
export { default as GlomsegPanel } from './components/panel/glomseg-panel.js';
export { default as GlomsegSignIn } from './components/sign-in/glomseg-sign-in.js';
export { default as GlomsegMapTools } from './components/map-tools/glomseg-map-tools.js';
export { default as GlomsegShortcutHelp } from './components/shortcut-help/glomseg-shortcut-help.js';
export { default as GlomsegGlomerulusTable } from './components/glomerulus-table/glomseg-glomerulus-table.js';
export type { PanelState } from './components/panel/glomseg-panel.state.js';
export * from './events.js';
export type { LiveDiceMetrics, PredictionClass, TruthClass } from './dice/live-dice-scorer.js';
export type { LoadedAnnotations } from './annotation-source.js';
export type { PixelOrigin } from './slide-frame.js';
export { bearerToken, type RequestHeaders } from './glomseg-client.js';
export { tileLoaderWithHeaders } from './auth/tile-loader.js';
export {
  PredictionLayer,
  type PredictionSettings,
  type PredictionLayerEvents,
  type PredictionSession,
} from './layers/prediction-layer.js';
export { AnnotationLayer, type AnnotationInput } from './layers/annotation-layer.js';
export { ProbabilityLayer } from './layers/probability-layer.js';
export { RulerTool } from './tools/ruler-tool.js';
export { mapSnapshot } from './tools/map-snapshot.js';
