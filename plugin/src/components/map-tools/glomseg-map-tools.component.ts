import { css, html, nothing } from 'lit';
import { textColour } from '../../internal/text.styles.js';
import { property } from 'lit/decorators.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent, type MapToolInput } from '../../events.js';
import { probabilityGradientCss } from '../../probability-scale.js';

/** The tools' buttons, in order: the switches (pressed or not) and the actions. */
const BUTTONS = [
  { name: 'outline', label: 'Outline', key: 'o', title: 'Outline only: no fill over the tissue' },
  {
    name: 'heatmap',
    label: 'Heatmap',
    key: 'h',
    title: "Probability heatmap: the model's probability at each pixel",
  },
  {
    name: 'ruler',
    label: 'Ruler',
    key: 'r',
    title: 'Measure a distance in µm: click points, double-click or Enter to finish',
  },
  { name: 'snapshot', label: 'Snapshot', key: 's', title: 'Save the view as PNG' },
  { name: 'help', label: '?', key: '?', title: 'Keyboard shortcuts' },
] as const;

type Switch = 'outline' | 'heatmap' | 'ruler';

/**
 * The viewer's map tools, over the map: outline-only display, the probability heatmap (with its opacity and colour
 * scale), the ruler, a PNG snapshot and the keyboard help. It shows the state it is given and says what the user
 * asked for with `glomseg-map-tool` events; the viewer does the rest.
 *
 * @property outline - Predictions drawn as outlines only.
 * @property heatmap - The probability heatmap is shown.
 * @property heatmapOpacity - The heatmap's opacity, 0 to 1.
 * @property ruler - The ruler is measuring.
 * @property measurements - How many lines the ruler has measured (a Clear button while any).
 *
 * @event glomseg-map-tool - The user switched a tool or asked for a snapshot or the help (detail: MapToolInput).
 *
 * @csspart toolbar - The row of tool buttons.
 * @csspart tool - Each tool button (data-tool names it; aria-pressed for the switches).
 * @csspart heatmap-scale - The heatmap's colour scale, 0 to 1, with its opacity slider.
 * @csspart heatmap-opacity - The heatmap's opacity slider.
 * @csspart clear-measurements - Removes the ruler's lines.
 */
export default class GlomsegMapTools extends GlomsegElement {
  static override styles = css`
    :host {
      display: grid;
      gap: 6px;
      justify-items: end;
      font:
        12px/1.3 system-ui,
        sans-serif;
      color: ${textColour};
    }
    [part='toolbar'] {
      display: flex;
      gap: 2px;
      padding: 2px;
      background: rgba(23, 24, 26, 0.85);
      border-radius: 4px;
    }
    [part~='tool'] {
      font: inherit;
      color: inherit;
      background: transparent;
      border: 1px solid transparent;
      border-radius: 3px;
      padding: 3px 8px;
      cursor: pointer;
    }
    [part~='tool']:hover,
    [part~='tool']:focus-visible {
      border-color: #8ab4f8;
    }
    [part~='tool'][aria-pressed='true'] {
      background: #0b3d5c;
      border-color: #00b4ff;
    }
    [part='heatmap-scale'] {
      display: grid;
      gap: 2px;
      width: 200px;
      padding: 6px 8px;
      background: rgba(23, 24, 26, 0.85);
      border-radius: 4px;
    }
    .gradient {
      height: 10px;
      border-radius: 2px;
    }
    .ends {
      display: flex;
      justify-content: space-between;
      color: #bdc1c6;
    }
    label {
      display: flex;
      gap: 6px;
      align-items: center;
    }
    [part='heatmap-opacity'] {
      flex: 1;
      min-width: 0;
    }
    [part='clear-measurements'] {
      font: inherit;
      cursor: pointer;
    }
  `;

  @property({ type: Boolean }) outline = false;
  @property({ type: Boolean }) heatmap = false;
  @property({ type: Number, attribute: 'heatmap-opacity' }) heatmapOpacity = 0.7;
  @property({ type: Boolean }) ruler = false;
  @property({ type: Number }) measurements = 0;

  private send(detail: MapToolInput): void {
    this.dispatchEvent(glomsegEvent('glomseg-map-tool', detail));
  }

  private press(name: (typeof BUTTONS)[number]['name']): void {
    if (name === 'snapshot') this.send({ name });
    else if (name === 'help') this.send({ name, value: true });
    else this.send({ name, value: !this[name as Switch] });
  }

  protected override render() {
    return html`
      <div part="toolbar" role="toolbar" aria-label="Map tools">
        ${BUTTONS.map(
          (button) =>
            html`<button
              part="tool"
              data-tool=${button.name}
              title="${button.title} (${button.key})"
              aria-keyshortcuts=${button.key === '?' ? 'Shift+?' : button.key}
              aria-pressed=${button.name in SWITCHES ? String(this[button.name as Switch]) : nothing}
              @click=${() => this.press(button.name)}
            >
              ${button.label}
            </button>`,
        )}
      </div>
      ${
        this.measurements > 0
          ? html`<button part="clear-measurements" @click=${() => this.send({ name: 'clearMeasurements' })}>
              Clear ${this.measurements === 1 ? 'measurement' : `${this.measurements} measurements`}
            </button>`
          : nothing
      }
      ${this.heatmap ? this.renderScale() : nothing}
    `;
  }

  private renderScale() {
    return html`<div part="heatmap-scale" role="group" aria-label="Heatmap colour scale">
      <span title="Transparent under 0.1">Probability of glomerulus</span>
      <div class="gradient" style="background: ${probabilityGradientCss()}"></div>
      <div class="ends"><span>0</span><span>0.5</span><span>1</span></div>
      <label
        >Opacity
        <input
          part="heatmap-opacity"
          type="range"
          min="0"
          max="1"
          step="0.05"
          .value=${String(this.heatmapOpacity)}
          @input=${(e: Event) => this.send({ name: 'heatmapOpacity', value: Number((e.target as HTMLInputElement).value) })}
        />
      </label>
    </div>`;
  }
}

const SWITCHES: Record<Switch, true> = { outline: true, heatmap: true, ruler: true };
