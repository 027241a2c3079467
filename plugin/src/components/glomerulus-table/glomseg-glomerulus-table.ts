/** Registers <glomseg-glomerulus-table>. */
import GlomsegGlomerulusTable from './glomseg-glomerulus-table.component.js';

export * from './glomseg-glomerulus-table.component.js';
export default GlomsegGlomerulusTable;

GlomsegGlomerulusTable.define('glomseg-glomerulus-table');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-glomerulus-table': GlomsegGlomerulusTable;
  }
}
