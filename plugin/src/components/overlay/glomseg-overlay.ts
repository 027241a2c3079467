/** Registers <glomseg-overlay> (and the <glomseg-panel> it renders). */
import GlomsegOverlay from './glomseg-overlay.component.js';

export * from './glomseg-overlay.component.js';
export default GlomsegOverlay;

GlomsegOverlay.define('glomseg-overlay');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-overlay': GlomsegOverlay;
  }
}
