import { html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent } from '../../events.js';
import type { PanelState } from './glomseg-panel.state.js';
import {
  annotationsTemplate,
  controlsTemplate,
  statusTemplate,
  type PanelHandlers,
} from './panel-controls-template.js';
import {
  diceTemplate,
  legendTemplate,
  offSlideTemplate,
  scaleNoteTemplate,
  sizesTemplate,
} from './panel-readouts-template.js';

export type { PanelState } from './glomseg-panel.state.js';
export type { PanelInput } from '../../events.js';

/**
 * The overlay's controls and read-outs (status and progress, scale note, errors, threshold, opacity, layer
 * visibility, annotations, size distribution, Dice, legend, export). It shows the state it is given and says what
 * the user changed with `glomseg-panel-input` events; it draws nothing on the map. It renders into its own element
 * (no shadow root), so inside <glomseg-overlay> its parts are the overlay's parts.
 *
 * @property state - What to show (set as a property).
 *
 * @event glomseg-panel-input - The user changed a control or asked for something (detail: PanelInput).
 *
 * @csspart panel - The control panel.
 * @csspart status - Streaming status line with its progress bar.
 * @csspart scale-note - Says when the slide's pixel size was estimated or assumed, and what to do: one folded line where the scale is probably right (data-level="quiet"), open where it is likely wrong ("prominent").
 * @csspart error - The visible error message.
 * @csspart controls - Threshold, opacity, pixel size and visibility controls.
 * @csspart pixel-size - The slide's pixel size (µm/px) box; empty: the slide's own.
 * @csspart annotations - Annotation loading controls.
 * @csspart annotations-warning - Warns of annotations that lie off the slide, or that were left out or repaired.
 * @csspart sizes - The glomerulus size distribution.
 * @csspart density - Glomeruli per mm² (data-value holds the number).
 * @csspart histogram - The size histogram.
 * @csspart dice - The Dice panel.
 * @csspart dice-global - Global Dice value (data-value holds the unrounded number).
 * @csspart dice-mean-tile - Mean Dice of the 1600 × 1200 squares (data-value holds the unrounded number).
 * @csspart dice-precision - Object precision (data-value holds the unrounded number).
 * @csspart dice-recall - Object recall (data-value holds the unrounded number).
 * @csspart dice-f1 - Object F1 at IoU ≥ 0.5 (data-value holds the unrounded number).
 * @csspart legend - Colour legend.
 * @csspart export - The export button.
 */
export default class GlomsegPanel extends GlomsegElement {
  @property({ attribute: false }) state?: PanelState;

  private readonly handlers: PanelHandlers = {
    input: (detail) => this.dispatchEvent(glomsegEvent('glomseg-panel-input', detail)),
    pickFile: (event) => this.onPickFile(event),
    pixelSize: (input) => this.onPixelSize(input),
    openFilePicker: () => this.querySelector<HTMLInputElement>('input[type=file]')?.click(),
  };

  protected override createRenderRoot() {
    return this;
  }

  private onPickFile(event: Event): void {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) this.handlers.input({ name: 'loadFile', value: file });
    input.value = '';
  }

  /** An empty box is the slide's own pixel size; a number out of range is put back as it was. */
  private onPixelSize(input: HTMLInputElement): void {
    const text = input.value.trim();
    const value = text === '' ? 0 : Number(text);
    if (!(value === 0 || (value >= 0.05 && value <= 50))) {
      input.value = this.state?.mppOverride ? String(this.state.mppOverride) : '';
      return;
    }
    if (value !== this.state?.mppOverride) this.handlers.input({ name: 'mpp', value });
  }

  protected override render() {
    const s = this.state;
    if (!s) return nothing;
    const on = this.handlers;
    return html`
      <div part="panel" @keydown=${stopKeysAtControls} @keyup=${stopKeysAtControls}>
        <h3>Glomerulus predictions</h3>
        ${statusTemplate(s)} ${scaleNoteTemplate(s)} ${controlsTemplate(s, on)} ${annotationsTemplate(s, on)}
        ${offSlideTemplate(s)} ${diceTemplate(s)} ${sizesTemplate(s)} ${legendTemplate(s)}
        <div class="row">
          <button part="export" ?disabled=${s.progress.polygons === 0} @click=${() => on.input({ name: 'export' })}>
            Export GeoJSON
          </button>
        </div>
      </div>
    `;
  }
}

/**
 * Keys pressed in the panel's sliders, boxes and buttons are theirs: a map's keyboard pan and zoom (OpenLayers
 * listens on the shadow host, where the event's target reads as the host, not an input) must not see them.
 */
function stopKeysAtControls(event: KeyboardEvent): void {
  const target = event.composedPath()[0] as HTMLElement | undefined;
  if (target && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName)) event.stopPropagation();
}
