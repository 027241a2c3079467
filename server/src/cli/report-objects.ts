/**
 * report.html's drawing of the errors: each predicted and true glomerulus coloured by its match status (the viewer's
 * palette, shared/class-colours.ts; matched as the F1 is, shared/object-status.ts), a scale bar, and a table of
 * glomeruli with its CSV as a data: URL (the page stays one self-contained file, no script).
 */
import { CLASS_COLOURS } from '@glomseg/shared/class-colours.js';
import type { GlomerulusPolygon, Polygon, Rect } from '@glomseg/shared/geometry.js';
import { objectStatuses } from '@glomseg/shared/object-status.js';
import { polygonArea } from '@glomseg/shared/rasterize.js';
import { glomerulusCells, glomerulusCsv, type GlomerulusRow } from '@glomseg/shared/glomerulus-table.js';

/** The ground truth a slide was scored against and the region its objects were matched over. */
export interface ReportTruth {
  polygons: Polygon[];
  region: Rect;
}

interface Drawn {
  polygon: Polygon;
  cls: keyof typeof CLASS_COLOURS;
  status: GlomerulusRow['status'];
  truth: boolean;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function polygonPath(polygon: Polygon): string {
  return [polygon.exterior, ...polygon.holes]
    .map((ring) => `M${ring.map(([x, y]) => `${Math.round(x)},${Math.round(y)}`).join('L')}Z`)
    .join('');
}

/** The table's rows and what to draw: predictions in their order (G1…), then the missed truth (M1…). */
export function reportObjects(
  polygons: readonly GlomerulusPolygon[],
  truth: ReportTruth | undefined,
  mpp: number,
): { rows: GlomerulusRow[]; drawn: Drawn[] } {
  const statuses = truth ? objectStatuses(polygons, truth.polygons, truth.region) : undefined;
  const um2 = (px: number) => (mpp ? px * mpp * mpp : undefined);
  const rows: GlomerulusRow[] = [];
  const drawn: Drawn[] = [];
  polygons.forEach((p, i) => {
    const s = statuses?.predicted[i];
    const status = s === 'true-positive' ? 'TP' : s === 'false-positive' ? 'FP' : '—';
    rows.push({
      id: `G${i + 1}`,
      areaPx: p.area,
      areaUm2: um2(p.area),
      meanProbability: Number.isFinite(p.meanProbability) ? p.meanProbability : undefined,
      status,
    });
    drawn.push({
      polygon: p,
      cls: s === 'true-positive' ? 'true-positive' : s === 'false-positive' ? 'false-positive' : 'prediction',
      status,
      truth: false,
    });
  });
  let missed = 0;
  truth?.polygons.forEach((t, i) => {
    const s = statuses!.truth[i];
    if (s === 'outside') return;
    if (s === 'missed') {
      const area = polygonArea(t);
      rows.push({ id: `M${++missed}`, areaPx: area, areaUm2: um2(area), meanProbability: undefined, status: 'FN' });
    }
    drawn.push({
      polygon: t,
      cls: s === 'missed' ? 'missed' : 'true-positive',
      status: s === 'missed' ? 'FN' : 'TP',
      truth: true,
    });
  });
  return { rows, drawn };
}

/** The SVG paths: predictions filled with a solid outline, ground truth dashed (the missed filled), as in the viewer. */
export function drawnPaths(drawn: readonly Drawn[], strokeWidth: number): string {
  return drawn
    .map(({ polygon, cls, status, truth }) => {
      const colour = CLASS_COLOURS[cls];
      const fillOpacity = truth ? (cls === 'missed' ? 0.2 : 0) : 0.25;
      const dash = truth ? ` stroke-dasharray="${(strokeWidth * 4).toFixed(1)} ${(strokeWidth * 2.5).toFixed(1)}"` : '';
      return `<path class="glomerulus ${truth ? 'truth' : 'prediction'}" data-status="${status}" d="${polygonPath(polygon)}" fill="${colour}" fill-opacity="${fillOpacity}" stroke="${colour}" stroke-width="${strokeWidth.toFixed(1)}"${dash}/>`;
    })
    .join('');
}

/** The legend of the classes drawn (only those present). */
export function legendHtml(drawn: readonly Drawn[]): string {
  const labels: Array<[keyof typeof CLASS_COLOURS, string]> = [
    ['prediction', 'Predicted (no ground truth)'],
    ['true-positive', 'True positive (IoU ≥ 0.5): prediction solid, its ground truth dashed'],
    ['false-positive', 'False positive: predicted, not in the ground truth'],
    ['missed', 'Missed: ground truth the model did not find (dashed)'],
  ];
  const present = new Set(drawn.map((d) => d.cls));
  return `<ul class="legend">${labels
    .filter(([cls]) => present.has(cls))
    .map(
      ([cls, label]) =>
        `<li><span class="swatch" style="background:${CLASS_COLOURS[cls]}"></span>${escapeHtml(label)}</li>`,
    )
    .join('')}</ul>`;
}

/** A round length (1, 2 or 5 × 10^k µm) near a fifth of the picture's width. */
function barLength(widthUm: number): number {
  const target = widthUm / 5;
  const power = 10 ** Math.floor(Math.log10(target));
  return [5, 2, 1].map((m) => m * power).find((length) => length <= target) ?? power;
}

/**
 * A scale bar in the slide's pixel coordinates (the SVG's viewBox), bottom left; `assumed` says the pixel size was
 * not stated by the file or the user.
 */
export function scaleBarSvg(
  width: number,
  height: number,
  mpp: number,
  scale: number,
  assumed: string | undefined,
): string {
  const lengthUm = barLength(width * mpp);
  const lengthPx = lengthUm / mpp;
  const unit = 1 / scale; // one CSS pixel in slide pixels
  const x = 10 * unit;
  const y = height - 12 * unit;
  const label = `${lengthUm >= 1000 ? `${lengthUm / 1000} mm` : `${lengthUm} µm`}${assumed ? ` (${assumed})` : ''}`;
  return (
    `<g class="scale-bar" data-length-um="${lengthUm}"><rect x="${x - 4 * unit}" y="${y - 18 * unit}" width="${lengthPx + 8 * unit + label.length * 6.5 * unit}" height="${26 * unit}" fill="rgba(255,255,255,0.8)"/>` +
    `<rect x="${x}" y="${y - 2 * unit}" width="${lengthPx}" height="${4 * unit}" fill="#202124"/>` +
    `<text x="${x + lengthPx + 6 * unit}" y="${y + 4 * unit}" font-size="${12 * unit}" fill="#202124">${escapeHtml(label)}</text></g>`
  );
}

/** The table, and a link that downloads the same rows as CSV (a data: URL: nothing fetched, no script). */
export function glomerulusTableHtml(slideName: string, rows: readonly GlomerulusRow[]): string {
  const href = `data:text/csv;charset=utf-8,${encodeURIComponent(glomerulusCsv(rows))}`;
  const body = rows
    .map(
      (row) =>
        `<tr data-status="${row.status}">${glomerulusCells(row)
          .map((cell) => `<td>${escapeHtml(cell || '–')}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  return (
    `<details class="glomeruli" open><summary>Glomeruli (${rows.length} rows) · <a class="csv" download="${escapeHtml(slideName)}-glomeruli.csv" href="${href}">Download CSV</a></summary>` +
    `<div class="scroll"><table class="glomeruli"><thead><tr><th>id</th><th>area px</th><th>area µm²</th><th>mean probability</th><th>status</th></tr></thead><tbody>${body}</tbody></table></div></details>`
  );
}
