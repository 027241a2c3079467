/** The table `glomseg score` ends with: a row per slide, the pooled figures, and notes on scale and ground truth. */
import { poolDiceMetrics, type DiceMetrics } from '@glomseg/shared/dice.js';
import { UNSTATED_MPP } from '@glomseg/shared/annotations.js';
import { slideNameOf } from './slide-names.js';
import type { SlideScore } from './slide-score.js';

/** The table's scale cell: um/px, and how it was known when the file did not say. */
function scaleCell(scale: SlideScore['scale']): string {
  if (!scale) return '-';
  const how =
    scale.source === 'estimated'
      ? ` estimated (${Math.round((scale.confidence ?? 0) * 100)}%)`
      : scale.source === 'model-default'
        ? ' ASSUMED'
        : '';
  return `${scale.mpp.toFixed(2)}${how}`;
}

/** `wroteFiles`: the slides' GeoJSON files were written (--out), whose areas a note must qualify. */
export function formatTable(scores: SlideScore[], overall: DiceMetrics | undefined, wroteFiles = false): string {
  const rows = [['slide', 'glomeruli', 'um/px', 'global Dice', 'mean tile Dice', 'F1', 'time (s)', 'status']];
  const metricsRow = (m: DiceMetrics | undefined) => [
    m ? m.globalDice.toFixed(4) : '-',
    m ? m.meanTileDice.toFixed(4) : '-',
    m ? m.f1.toFixed(4) : '-',
  ];
  for (const s of scores) {
    rows.push([
      slideNameOf(s.slide),
      s.ok ? String(s.glomeruli) : '-',
      s.ok ? scaleCell(s.scale) : '-',
      ...metricsRow(s.metrics),
      s.elapsedMs !== undefined ? (s.elapsedMs / 1000).toFixed(1) : '-',
      s.ok ? (s.scale?.note || s.warnings?.length ? 'ok, see note' : 'ok') : `FAILED: ${s.error}`,
    ]);
  }
  const scored = scores.filter((s) => s.metrics);
  if (scored.length > 1) {
    const glomeruli = scored.reduce((total, s) => total + (s.glomeruli ?? 0), 0);
    rows.push([`all ${scored.length} scored`, String(glomeruli), '', ...metricsRow(overall), '', 'pooled']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  const notes = scores
    .filter((s) => s.ok && s.scale?.note)
    .map((s) => `note: ${slideNameOf(s.slide)}: ${s.scale!.note}`);
  for (const s of wroteFiles ? scores : []) {
    // The same scale sources toQuPathGeoJson marks on each object.
    const measurement = s.ok && s.scale ? UNSTATED_MPP[s.scale.source as keyof typeof UNSTATED_MPP] : undefined;
    const name = slideNameOf(s.slide);
    if (measurement)
      notes.push(
        `note: ${name}: "Area µm^2" in ${name}.geojson (and the report's sizes) assumes ${s.scale!.mpp.toFixed(2)} µm/px, which no one stated; each object carries it as "${measurement}"`,
      );
  }
  for (const s of scores)
    for (const warning of (s.ok && s.warnings) || [])
      notes.push(`warning: ${slideNameOf(s.slide)}: ground truth: ${warning}`);
  return [table, ...notes].join('\n');
}

/** The slides with annotations scored as one set (pooled pixel and object counts); undefined when none has any. */
export function overallMetrics(scores: SlideScore[]): DiceMetrics | undefined {
  const all = scores.flatMap((s) => (s.metrics ? [s.metrics] : []));
  return all.length > 0 ? poolDiceMetrics(all) : undefined;
}
