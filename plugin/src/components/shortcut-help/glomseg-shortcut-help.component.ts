import { css, html, type PropertyValues } from 'lit';
import { textColour } from '../../internal/text.styles.js';
import { property, query } from 'lit/decorators.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent } from '../../events.js';

export interface ShortcutHelpEntry {
  keys: readonly string[];
  description: string;
}

/** How a key is written in the help: named keys in words, arrows as arrows. */
const KEY_NAMES: Record<string, string> = {
  Escape: 'Esc',
  ArrowUp: '↑',
  ArrowDown: '↓',
  ArrowLeft: '←',
  ArrowRight: '→',
  Backspace: '⌫ Backspace',
  Enter: 'Enter',
};

/**
 * The keyboard shortcuts, in a modal dialog (the native <dialog>: focus moves into it, Escape closes it). It lists
 * what it is given; whoever shows it (the viewer) keeps the shortcuts and whether it is open.
 *
 * @property open - Whether the dialog is shown.
 * @property shortcuts - The keys and what they do (set as a property).
 *
 * @event glomseg-map-tool - The dialog was closed (Escape, the Close button or the ? key) (detail: { name: 'help', value: false }).
 *
 * @csspart dialog - The dialog.
 * @csspart shortcuts - The list of keys and what they do.
 * @csspart close - The Close button.
 */
export default class GlomsegShortcutHelp extends GlomsegElement {
  static override styles = css`
    [part='dialog'] {
      font:
        13px/1.5 system-ui,
        sans-serif;
      color: ${textColour};
      background: #17181a;
      border: 1px solid #5f6368;
      border-radius: 6px;
      padding: 12px 16px;
      max-width: min(480px, 90vw);
      max-height: 80vh;
    }
    [part='dialog']::backdrop {
      background: rgba(0, 0, 0, 0.5);
    }
    h2 {
      margin: 0 0 8px;
      font-size: 15px;
    }
    [part='shortcuts'] {
      display: grid;
      grid-template-columns: auto 1fr;
      gap: 4px 12px;
      margin: 0 0 12px;
    }
    dt {
      white-space: nowrap;
    }
    dd {
      margin: 0;
    }
    kbd {
      font:
        12px ui-monospace,
        monospace;
      padding: 1px 5px;
      border: 1px solid #5f6368;
      border-radius: 3px;
      background: #202124;
    }
    [part='close'] {
      font: inherit;
      padding: 3px 12px;
      cursor: pointer;
    }
  `;

  @property({ type: Boolean, reflect: true }) open = false;
  @property({ attribute: false }) shortcuts: readonly ShortcutHelpEntry[] = [];

  @query('dialog') private dialog!: HTMLDialogElement;

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has('open')) return;
    if (this.open && !this.dialog.open) this.dialog.showModal();
    else if (!this.open && this.dialog.open) this.dialog.close();
  }

  /** The dialog closed (Escape closes a modal <dialog> by itself): so is this element, and the owner is told. */
  private onClose(): void {
    if (!this.open) return;
    this.open = false;
    this.dispatchEvent(glomsegEvent('glomseg-map-tool', { name: 'help', value: false }));
  }

  /** '?' in the dialog closes it too (the owner's listener sits outside the modal's focus). */
  private onKeyDown(event: KeyboardEvent): void {
    if (event.key !== '?') return;
    event.preventDefault();
    event.stopPropagation();
    this.dialog.close();
  }

  protected override render() {
    return html`<dialog part="dialog" aria-labelledby="title" @close=${this.onClose} @keydown=${this.onKeyDown}>
      <h2 id="title">Keyboard shortcuts</h2>
      <dl part="shortcuts">
        ${this.shortcuts.map(
          (entry) =>
            html`<dt>${entry.keys.map((key, i) => html`${i > 0 ? ' ' : ''}<kbd>${KEY_NAMES[key] ?? key}</kbd>`)}</dt>
              <dd>${entry.description}</dd>`,
        )}
      </dl>
      <button part="close" @click=${() => this.dialog.close()}>Close</button>
    </dialog>`;
  }
}
