/** Registers <glomseg-panel>. */
import GlomsegPanel from './glomseg-panel.component.js';

export * from './glomseg-panel.component.js';
export default GlomsegPanel;

GlomsegPanel.define('glomseg-panel');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-panel': GlomsegPanel;
  }
}
