/** Registers <glomseg-overlay>. */
import { GlomsegOverlay } from './components/overlay/glomseg-overlay.js';

export { GlomsegOverlay };
if (!customElements.get('glomseg-overlay')) customElements.define('glomseg-overlay', GlomsegOverlay);

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-overlay': GlomsegOverlay;
  }
}
