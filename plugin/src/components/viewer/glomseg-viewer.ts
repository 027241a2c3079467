/** Registers <glomseg-viewer> (and the <glomseg-overlay> and <glomseg-panel> it renders). */
import GlomsegViewer from './glomseg-viewer.component.js';

export * from './glomseg-viewer.component.js';
export default GlomsegViewer;

GlomsegViewer.define('glomseg-viewer');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-viewer': GlomsegViewer;
  }
}
