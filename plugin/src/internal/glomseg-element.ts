/**
 * The base of every glomseg element, as Shoelace's ShoelaceElement is of theirs: `define(name)` registers an element
 * and the elements it renders (`dependencies`), once. Each component's class lives in `<name>.component.ts`, and its
 * registration file `<name>.ts` does nothing but call `define`, so importing a component is what registers it.
 */
import { LitElement } from 'lit';

export class GlomsegElement extends LitElement {
  /** Elements this one renders, by tag name: registered with it. */
  static dependencies: Record<string, typeof GlomsegElement> = {};

  /** Registers this element as `name` (and its dependencies); a name already taken is left as it is. */
  static define(name: string): void {
    for (const [tag, dependency] of Object.entries(this.dependencies)) dependency.define(tag);
    if (!customElements.get(name)) customElements.define(name, this);
  }
}
