/** The panel's inputs and what they drive: streaming status, the error, the controls and the annotations row. */
import { html, nothing } from 'lit';
import { annotationExtensions } from '@glomseg/shared/annotation-formats/index.js';
import type { PanelInput } from '../../events.js';
import type { PanelState } from './glomseg-panel.state.js';

/** The file picker offers what the annotation format registry reads. */
const ANNOTATION_ACCEPT = annotationExtensions().join(',');

/** What the panel's templates call back into the panel with (made once, so each render binds the same listeners). */
export interface PanelHandlers {
  /** Says what the user changed or asked for. */
  input(detail: PanelInput): void;
  /** The hidden file input's change. */
  pickFile(event: Event): void;
  /** The Pixel size box's change. */
  pixelSize(input: HTMLInputElement): void;
  /** Opens the hidden file input. */
  openFilePicker(): void;
}

function statusText(s: PanelState): string {
  const { received, total, streaming } = s.progress;
  return s.loading
    ? 'Connecting…'
    : s.error && !streaming && received === 0
      ? 'Stopped'
      : !s.hasSlide
        ? 'No slide'
        : streaming
          ? `Predicting ${received} / ${total} tiles`
          : total > 0
            ? `${received} / ${total} tiles`
            : 'Waiting for the map';
}

/** The status line with its progress bar, the zoom hint and the error. */
export function statusTemplate(s: PanelState) {
  const { received, total, streaming, limited, polygons } = s.progress;
  return html`
    <div
      part="status"
      data-streaming=${String(streaming)}
      data-received=${received}
      data-total=${total}
      data-polygons=${polygons}
    >
      <span>${statusText(s)} · ${polygons} glomeruli</span>
      <progress max=${Math.max(1, total)} .value=${received}></progress>
    </div>
    ${limited ? html`<div class="muted">Zoom in to predict the rest of the view.</div>` : nothing}
    ${
      s.error
        ? html`<div part="error" role="alert" data-code=${s.error.code}>
            <strong>${errorTitle(s.error.code)}</strong> ${s.error.message}
          </div>`
        : nothing
    }
  `;
}

/** Threshold, pixel size, opacity and the two visibility boxes. */
export function controlsTemplate(s: PanelState, on: PanelHandlers) {
  const threshold = s.threshold;
  return html`
    <div part="controls">
      <label
        >Threshold
        <input
          type="range"
          min="0.05"
          max="0.95"
          step="0.05"
          .value=${String(threshold ?? '')}
          ?disabled=${threshold === undefined}
          @change=${(e: Event) => on.input({ name: 'threshold', value: Number((e.target as HTMLInputElement).value) })}
        />
        <span>${threshold === undefined ? "the model's" : threshold.toFixed(2)}</span>
      </label>
      <label
        part="pixel-size"
        title="The scanner's pixel size at full resolution. Empty: the file's, else the one estimated or assumed."
        >Pixel size
        <input
          type="number"
          min="0.05"
          max="50"
          step="any"
          inputmode="decimal"
          .value=${s.mppOverride > 0 ? String(s.mppOverride) : ''}
          placeholder=${pixelSizePlaceholder(s)}
          @change=${(e: Event) => on.pixelSize(e.target as HTMLInputElement)}
        />
        <span>µm/px</span>
      </label>
      <label
        >Opacity
        <input
          type="range"
          min="0"
          max="1"
          step="0.05"
          .value=${String(s.opacity)}
          @input=${(e: Event) => on.input({ name: 'opacity', value: Number((e.target as HTMLInputElement).value) })}
        />
      </label>
      <div class="row">
        <label
          ><input
            type="checkbox"
            .checked=${s.visible}
            @change=${(e: Event) => on.input({ name: 'visible', value: (e.target as HTMLInputElement).checked })}
          />
          Predictions</label
        >
        <label
          ><input
            type="checkbox"
            .checked=${s.annotationsVisible}
            @change=${(e: Event) =>
              on.input({ name: 'annotationsVisible', value: (e.target as HTMLInputElement).checked })}
          />
          Annotations</label
        >
      </div>
    </div>
  `;
}

/** An empty box shows the pixel size in use, and where it came from. */
function pixelSizePlaceholder(s: PanelState): string {
  if (!s.grid || s.mppOverride !== 0) return '';
  return `${s.grid.mppAssumed.toFixed(2)} (${s.grid.mppSource === 'file' ? "the file's" : 'assumed'})`;
}

/** The annotations loaded (or how to load some), with Load… and Clear. */
export function annotationsTemplate(s: PanelState, on: PanelHandlers) {
  return html`
    <div part="annotations" class="row">
      <span
        >${
          s.annotations
            ? html`${s.annotations.name}: ${s.annotations.polygons.length} glomeruli`
            : html`<span class="muted">No annotations — drop a file on the map</span>`
        }</span
      >
      <button @click=${on.openFilePicker}>Load…</button>
      ${s.annotations ? html`<button @click=${() => on.input({ name: 'clearAnnotations' })}>Clear</button>` : nothing}
      <input type="file" hidden accept=${ANNOTATION_ACCEPT} @change=${on.pickFile} />
    </div>
  `;
}

function errorTitle(code: string): string {
  switch (code) {
    case 'UNAVAILABLE':
      return 'Server unreachable';
    case 'NOT_FOUND':
      return 'Not found';
    case 'FAILED_PRECONDITION':
    case 'UNIMPLEMENTED':
      return 'Unsupported slide';
    case 'INVALID_ARGUMENT':
      return 'Invalid input';
    default:
      return 'Error';
  }
}
