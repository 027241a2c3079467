/** Registers <glomseg-shortcut-help>. */
import GlomsegShortcutHelp from './glomseg-shortcut-help.component.js';

export * from './glomseg-shortcut-help.component.js';
export default GlomsegShortcutHelp;

GlomsegShortcutHelp.define('glomseg-shortcut-help');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-shortcut-help': GlomsegShortcutHelp;
  }
}
