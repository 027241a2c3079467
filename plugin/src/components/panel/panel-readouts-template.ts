/** The panel's read-outs: the scale note, annotation warnings, size distribution, Dice and the legend. */
import { html, nothing } from 'lit';
import { unsafeSVG } from 'lit/directives/unsafe-svg.js';
import { areasUm2, glomerulusDensity, histogramSvg, sizeHistogram } from '@glomseg/shared/size-distribution.js';
import { scaleNote, scaleNoteLevel } from '@glomseg/shared/scale-estimate.js';
import { formatScore } from '../../dice/live-dice-scorer.js';
import { annotationsOffSlide } from '../../annotation-source.js';
import { CLASS_COLOURS, LEGEND, type FeatureClass } from '../../feature-styles.js';
import type { PanelState } from './glomseg-panel.state.js';

/** How large the glomeruli found are (um^2) and how many there are per mm^2 of tissue (else of the area predicted). */
export function sizesTemplate(s: PanelState) {
  const mpp = s.grid?.mppAssumed;
  if (!mpp || s.polygons.length === 0) return nothing;
  const areas = areasUm2(s.polygons, mpp);
  const density = glomerulusDensity(areas.length, { tissuePx: s.tissuePredicted, areaPx: s.areaPredicted }, mpp);
  // One line of text, as read and tested (a template wrapped over lines puts line breaks into it).
  const of = density.of === 'tissue' ? 'tissue' : 'the area predicted';
  const densityText = `${density.text.perMm2} glomeruli per mm² of ${of} (${density.text.mm2} mm²)`;
  return html`<div part="sizes">
    <h3>Glomerulus sizes</h3>
    <div part="density" data-value=${density.perMm2} data-of=${density.of}>${densityText}</div>
    <div part="histogram">${unsafeSVG(histogramSvg(sizeHistogram(areas), areas))}</div>
  </div>`;
}

/** Annotations that do not lie on the slide, or that were left out or repaired as scoring reads them, are said. */
export function offSlideTemplate(s: PanelState) {
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
export function scaleNoteTemplate(s: PanelState) {
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

export function diceTemplate(s: PanelState) {
  const dice = s.dice;
  if (!dice) return nothing;
  // The cell holds the figure alone (a test and a reader take its text as the number).
  const meanTileText = dice.diceTiles > 0 ? formatScore(dice.meanTileDice) : '–';
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
          <td part="dice-mean-tile" data-value=${dice.diceTiles > 0 ? dice.meanTileDice : ''}>${meanTileText}</td>
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

/** No square scored yet has no mean (an empty mean would read as a perfect 1). */
function squaresText(count: number): string {
  return count === 0 ? 'no squares yet' : count === 1 ? '1 square' : `${count} squares`;
}

/** Every colour and line style on the map, always shown; match counts once scored. */
export function legendTemplate(s: PanelState) {
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
