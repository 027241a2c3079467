/** Registers <glomseg-sign-in>. */
import GlomsegSignIn from './glomseg-sign-in.component.js';

export * from './glomseg-sign-in.component.js';
export default GlomsegSignIn;

GlomsegSignIn.define('glomseg-sign-in');

declare global {
  interface HTMLElementTagNameMap {
    'glomseg-sign-in': GlomsegSignIn;
  }
}
