/** Registers <glomseg-map-tools>. */
import GlomsegMapTools from './glomseg-map-tools.component.js';

export * from './glomseg-map-tools.component.js';
export default GlomsegMapTools;

GlomsegMapTools.define('glomseg-map-tools');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-map-tools': GlomsegMapTools;
  }
}
