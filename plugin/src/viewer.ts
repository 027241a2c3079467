/** Registers <glomseg-viewer> (and the <glomseg-overlay> it contains). */
import { GlomsegViewer } from './components/viewer/glomseg-viewer.js';

export { GlomsegViewer };
if (!customElements.get('glomseg-viewer')) customElements.define('glomseg-viewer', GlomsegViewer);

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-viewer': GlomsegViewer;
  }
}
