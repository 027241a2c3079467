/**
 * The table of glomeruli that report.html and the viewer both show: one row per prediction (G1…) and per true
 * glomerulus the model missed (M1…), with its area, mean probability and match status, and its CSV.
 */

/** One row of the glomerulus table: a prediction, or a true glomerulus the model missed. */
export interface GlomerulusRow {
  id: string;
  areaPx: number;
  areaUm2: number | undefined;
  meanProbability: number | undefined;
  /** TP, FP, FN (missed), or '—' when not scored (no ground truth, or outside the scored region). */
  status: 'TP' | 'FP' | 'FN' | '—';
}

export const GLOMERULUS_CSV_HEADER = ['id', 'area_px', 'area_um2', 'mean_probability', 'status'];

/** A row's cells as the table and the CSV print them ('' where a value is unknown). */
export function glomerulusCells(row: GlomerulusRow): string[] {
  return [
    row.id,
    row.areaPx.toFixed(0),
    row.areaUm2 === undefined ? '' : row.areaUm2.toFixed(1),
    row.meanProbability === undefined ? '' : row.meanProbability.toFixed(3),
    row.status,
  ];
}

export function glomerulusCsv(rows: readonly GlomerulusRow[]): string {
  return [GLOMERULUS_CSV_HEADER, ...rows.map(glomerulusCells)].map((cells) => cells.join(',')).join('\r\n') + '\r\n';
}
