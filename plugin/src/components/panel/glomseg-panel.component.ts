import { html, nothing } from 'lit';
import { property } from 'lit/decorators.js';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import { areasUm2, glomerulusDensity, histogramSvg, sizeHistogram } from '@glomseg/shared/size-distribution.js';
import { scaleNote, scaleNoteLevel } from '@glomseg/shared/scale-estimate.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent, type ErrorEventDetail, type PanelInput, type ProgressEventDetail } from '../../events.js';
import { formatScore, type LiveDiceMetrics } from '../../dice/live-dice-scorer.js';
import { annotationsOffSlide, type LoadedAnnotations } from '../../annotation-source.js';
import { CLASS_COLOURS, LEGEND, type FeatureClass } from '../../feature-styles.js';
import { annotationExtensions } from '@glomseg/shared/annotation-formats/index.js';

/** The file picker offers what the annotation format registry reads. */
const ANNOTATION_ACCEPT = annotationExtensions().join(',');

export interface PanelState {
  progress: ProgressEventDetail;
  loading: boolean;
  error?: ErrorEventDetail;
  /** Whether a slide is set at all. */
  hasSlide: boolean;
  /** The threshold in use (the card's when none is set); undefined until the card is known. */
  threshold?: number;
  opacity: number;
  /** Pixel size given in the Pixel size box (um/px); 0: the slide's own. */
  mppOverride: number;
  visible: boolean;
  annotationsVisible: boolean;
  annotations?: LoadedAnnotations;
  dice?: LiveDiceMetrics;
  grid?: TileGrid;
  slideSize?: { width: number; height: number };
  /** Glomeruli drawn now, and the level-0 area (px^2) of the tiles predicted so far. */
  polygons: readonly GlomerulusPolygon[];
  areaPredicted: number;
  /** Of that, the tissue (px^2): the server's tissue share of each tile. */
  tissuePredicted: number;
}

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

  protected override createRenderRoot() {
    return this;
  }

  private input(detail: PanelInput): void {
    this.dispatchEvent(glomsegEvent('glomseg-panel-input', detail));
  }

  private onPickFile(event: Event): void {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (file) this.input({ name: 'loadFile', value: file });
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
    if (value !== this.state?.mppOverride) this.input({ name: 'mpp', value });
  }

  protected override render() {
    const s = this.state;
    if (!s) return nothing;
    const { received, total, streaming, limited, polygons } = s.progress;
    const threshold = s.threshold;
    const statusText = s.loading
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
    return html`
      <div part="panel" @keydown=${stopKeysAtControls} @keyup=${stopKeysAtControls}>
        <h3>Glomerulus predictions</h3>
        <div
          part="status"
          data-streaming=${String(streaming)}
          data-received=${received}
          data-total=${total}
          data-polygons=${polygons}
        >
          <span>${statusText} · ${polygons} glomeruli</span>
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
        ${this.renderScaleNote(s)}
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
              @change=${(e: Event) => this.input({ name: 'threshold', value: Number((e.target as HTMLInputElement).value) })}
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
              placeholder=${s.grid && s.mppOverride === 0 ? `${s.grid.mppAssumed.toFixed(2)} (${s.grid.mppSource === 'file' ? "the file's" : 'assumed'})` : ''}
              @change=${(e: Event) => this.onPixelSize(e.target as HTMLInputElement)}
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
              @input=${(e: Event) => this.input({ name: 'opacity', value: Number((e.target as HTMLInputElement).value) })}
            />
          </label>
          <div class="row">
            <label
              ><input
                type="checkbox"
                .checked=${s.visible}
                @change=${(e: Event) => this.input({ name: 'visible', value: (e.target as HTMLInputElement).checked })}
              />
              Predictions</label
            >
            <label
              ><input
                type="checkbox"
                .checked=${s.annotationsVisible}
                @change=${(e: Event) => this.input({ name: 'annotationsVisible', value: (e.target as HTMLInputElement).checked })}
              />
              Annotations</label
            >
          </div>
        </div>
        <div part="annotations" class="row">
          <span
            >${s.annotations ? html`${s.annotations.name}: ${s.annotations.polygons.length} glomeruli` : html`<span class="muted">No annotations — drop a file on the map</span>`}</span
          >
          <button @click=${() => this.querySelector<HTMLInputElement>('input[type=file]')?.click()}>Load…</button>
          ${s.annotations ? html`<button @click=${() => this.input({ name: 'clearAnnotations' })}>Clear</button>` : nothing}
          <input type="file" hidden accept=${ANNOTATION_ACCEPT} @change=${this.onPickFile} />
        </div>
        ${this.renderOffSlide(s)} ${this.renderSizes(s)} ${this.renderDice(s)} ${this.renderLegend(s)}
        <div class="row">
          <button part="export" ?disabled=${polygons === 0} @click=${() => this.input({ name: 'export' })}>
            Export GeoJSON
          </button>
        </div>
      </div>
    `;
  }

  /** How large the glomeruli found are (um^2) and how many there are per mm^2 of tissue (else of the area predicted). */
  private renderSizes(s: PanelState) {
    const mpp = s.grid?.mppAssumed;
    if (!mpp || s.polygons.length === 0) return nothing;
    const areas = areasUm2(s.polygons, mpp);
    const density = glomerulusDensity(areas.length, { tissuePx: s.tissuePredicted, areaPx: s.areaPredicted }, mpp);
    return html`<div part="sizes">
      <h3>Glomerulus sizes</h3>
      <div part="density" data-value=${density.perMm2} data-of=${density.of}>
        ${density.text.perMm2} glomeruli per mm² of ${density.of === 'tissue' ? 'tissue' : 'the area predicted'}
        (${density.text.mm2} mm²)
      </div>
      <div part="histogram">${unsafeSVG(histogramSvg(sizeHistogram(areas), areas))}</div>
    </div>`;
  }

  /** Annotations that do not lie on the slide, or that were left out or repaired as scoring reads them, are said. */
  private renderOffSlide(s: PanelState) {
    const slide = s.slideSize;
    const off =
      s.annotations && slide ? annotationsOffSlide(s.annotations.polygons, slide.width, slide.height) : undefined;
    const notes = [...(s.annotations?.warnings ?? [])];
    if (off)
      notes.unshift(
        `${off.outside} of ${off.total} annotations lie outside the ${slide!.width} × ${slide!.height} px slide: are they for another slide, or in other units than level-0 pixels?`,
      );
    if (notes.length === 0) return nothing;
    return html`<div part="annotations-warning" role="status">${notes.map((note) => html`<div>${note}</div>`)}</div>`;
  }

  /**
   * A slide read at an estimated or assumed pixel size says so, with what to do: in one folded line where that scale
   * finds glomeruli, open and loud where it is likely wrong (then nothing may be found at all).
   */
  private renderScaleNote(s: PanelState) {
    const grid = s.grid;
    // A slide that cannot be read at all has no scale worth a word: its error stands alone.
    if (s.error && (s.error.code === 'FAILED_PRECONDITION' || s.error.code === 'UNIMPLEMENTED')) return nothing;
    const note = grid ? scaleNote(grid) : '';
    if (!grid || !note) return nothing;
    const level = scaleNoteLevel(grid, {
      glomeruli: s.polygons.length,
      tissueMm2: (s.tissuePredicted * grid.mppAssumed ** 2) / 1e6,
    });
    if (level === 'prominent') {
      const empty =
        s.polygons.length === 0
          ? html`<strong
              >No glomeruli found at ${grid.mppAssumed.toFixed(2)} µm/px: the pixel size is likely wrong.</strong
            > `
          : nothing;
      return html`<div part="scale-note" role="status" data-source=${grid.mppSource} data-level=${level}>
        ${empty}${note}
      </div>`;
    }
    return html`<details part="scale-note" class="quiet" data-source=${grid.mppSource} data-level=${level}>
      <summary>Pixel size assumed: ${grid.mppAssumed.toFixed(2)} µm/px <span class="muted">(details)</span></summary>
      ${note}
    </details>`;
  }

  private renderDice(s: PanelState) {
    const dice = s.dice;
    if (!dice) return nothing;
    return html`
      <div part="dice">
        <h3>Dice (${dice.tilesScored} / ${dice.tilesTotal} tiles)</h3>
        <table>
          <tr>
            <td>Global Dice</td>
            <td part="dice-global" data-value=${dice.globalDice}>${formatScore(dice.globalDice)}</td>
          </tr>
          <tr
            title="Dice of each ${dice.diceTileWidth} × ${dice.diceTileHeight} px square of the slide, averaged (a square with neither prediction nor ground truth counts 1), as in the HuBMAP Kaggle competition"
          >
            <td>
              Mean Dice per ${dice.diceTileWidth} × ${dice.diceTileHeight} px square (${squaresText(dice.diceTiles)})
            </td>
            <td part="dice-mean-tile" data-value=${dice.diceTiles > 0 ? dice.meanTileDice : ''}>
              ${dice.diceTiles > 0 ? formatScore(dice.meanTileDice) : '–'}
            </td>
          </tr>
          <tr>
            <td>Precision</td>
            <td part="dice-precision" data-value=${dice.precision}>${formatScore(dice.precision)}</td>
          </tr>
          <tr>
            <td>Recall</td>
            <td part="dice-recall" data-value=${dice.recall}>${formatScore(dice.recall)}</td>
          </tr>
          <tr>
            <td>F1 (IoU ≥ 0.5)</td>
            <td part="dice-f1" data-value=${dice.f1}>${formatScore(dice.f1)}</td>
          </tr>
        </table>
      </div>
    `;
  }

  /** Every colour and line style on the map, always shown; match counts once scored. */
  private renderLegend(s: PanelState) {
    const dice = s.dice;
    const counts: Partial<Record<FeatureClass, number>> = dice
      ? { 'true-positive': dice.truePositives, 'false-positive': dice.falsePositives, missed: dice.falseNegatives }
      : {};
    return html`
      <ul part="legend" class="legend">
        ${LEGEND.map(
          (entry) =>
            html`<li data-class=${entry.cls} class=${entry.scored && !s.annotations ? 'muted' : ''}>
              <span
                class="swatch"
                style="border: 2px ${entry.dashed ? 'dashed' : 'solid'} ${CLASS_COLOURS[entry.cls]}; background: ${entry.filled ? `${CLASS_COLOURS[entry.cls]}55` : 'transparent'}"
              ></span
              >${entry.label}${counts[entry.cls] !== undefined ? html` <strong>${counts[entry.cls]}</strong>` : nothing}
            </li>`,
        )}
      </ul>
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

/** No square scored yet has no mean (an empty mean would read as a perfect 1). */
function squaresText(count: number): string {
  return count === 0 ? 'no squares yet' : count === 1 ? '1 square' : `${count} squares`;
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
