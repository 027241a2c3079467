/**
 * report.html of a `glomseg score --out` batch: one self-contained page (no external files or scripts) with, per
 * slide, a thumbnail with the found glomeruli drawn on it, the metrics, the scale used and the size distribution.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import type { DiceMetrics } from '@glomseg/shared/dice.js';
import type { GlomerulusPolygon } from '@glomseg/shared/geometry.js';
import { areasUm2, glomerulusDensity, histogramSvg, sizeHistogram } from '@glomseg/shared/size-distribution.js';
import { openSlideFile } from '../slides/index.js';
import {
  drawnPaths,
  escapeHtml,
  glomerulusTableHtml,
  legendHtml,
  reportObjects,
  scaleBarSvg,
  type ReportTruth,
} from './report-objects.js';

export type { ReportTruth } from './report-objects.js';

/** Longest edge of the thumbnail, in CSS pixels. */
const THUMBNAIL_EDGE = 640;

export interface ReportSlide {
  name: string;
  file: string;
  ok: boolean;
  error?: string;
  glomeruli?: number;
  width?: number;
  height?: number;
  polygons?: GlomerulusPolygon[];
  metrics?: DiceMetrics;
  scale?: { mpp: number; source: string; confidence?: number; note?: string };
  /** The ground truth it was scored against: the errors are drawn and tabled. */
  truth?: ReportTruth;
  /** Tissue the server measured in what it scored, level-0 square pixels (the viewer sums the same per tile). */
  tissueArea?: number;
}

/**
 * The slide's coarsest level that still fills the thumbnail, as a JPEG data URL; undefined for a slide not on disk.
 */
async function thumbnail(file: string, width: number, height: number): Promise<{ url: string } | undefined> {
  if (!existsSync(file)) return undefined;
  const source = await openSlideFile(file, file);
  try {
    const wanted = THUMBNAIL_EDGE / Math.max(width, height);
    const levels = [...source.metadata.levels].sort((a, b) => b.downsample - a.downsample);
    const level = levels.find((l) => 1 / l.downsample >= wanted) ?? levels[levels.length - 1];
    const image = await source.readRegion({ level: level.index, x: 0, y: 0, width: level.width, height: level.height });
    const jpeg = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
      raw: { width: image.width, height: image.height, channels: 3 },
    })
      .resize({ width: Math.round(width * wanted), height: Math.round(height * wanted), fit: 'fill' })
      .jpeg({ quality: 80 })
      .toBuffer();
    return { url: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
  } finally {
    await source.close();
  }
}

/** Where the pixel size came from, in words a reader of the report understands (the result's source codes are not). */
const PIXEL_SIZE_SOURCES: Record<string, string> = {
  file: 'from the slide file',
  request: 'given with --mpp',
  estimated: 'estimated from the image',
  'model-default': "assumed: the file records none, so the model's training scale",
};

function pixelSizeSourceWords(source: string): string {
  return PIXEL_SIZE_SOURCES[source] ?? source;
}

/** What the scale bar says of a pixel size no one stated. */
const UNSTATED_SCALE: Record<string, string> = {
  'model-default': 'assumed pixel size',
  estimated: 'estimated pixel size',
};

async function slideSection(slide: ReportSlide): Promise<string> {
  if (!slide.ok || !slide.width || !slide.height) {
    return `<section><h2>${escapeHtml(slide.name)}</h2><p class="failed">Failed: ${escapeHtml(slide.error ?? 'unknown error')}</p></section>`;
  }
  const { width, height } = slide;
  const scale = THUMBNAIL_EDGE / Math.max(width, height);
  const thumb = await thumbnail(slide.file, width, height).catch(() => undefined);
  const polygons = slide.polygons ?? [];
  const mpp = slide.scale?.mpp ?? 0;
  const { rows: objectRows, drawn } = reportObjects(polygons, slide.truth, mpp);
  const scaleBar = mpp ? scaleBarSvg(width, height, mpp, scale, UNSTATED_SCALE[slide.scale!.source]) : '';
  const picture =
    `<svg class="thumbnail" width="${Math.round(width * scale)}" height="${Math.round(height * scale)}" viewBox="0 0 ${width} ${height}">` +
    (thumb
      ? `<image href="${thumb.url}" x="0" y="0" width="${width}" height="${height}" preserveAspectRatio="none"/>`
      : `<rect width="${width}" height="${height}" fill="#eee"/>`) +
    `<g fill-rule="evenodd">${drawnPaths(drawn, 1.5 / scale)}</g>${scaleBar}</svg>`;
  const areas = mpp ? areasUm2(polygons, mpp) : [];
  const m = slide.metrics;
  // The same computation, rounding and tissue (the server's measure) as the viewer's panel.
  const tissuePx = slide.tissueArea ?? 0;
  const density = mpp ? glomerulusDensity(polygons.length, { tissuePx, areaPx: width * height }, mpp) : undefined;
  const rows: Array<[string, string]> = [
    ['Glomeruli', String(slide.glomeruli ?? polygons.length)],
    [
      'Pixel size',
      mpp
        ? `${mpp.toFixed(3)} µm/px (${escapeHtml(pixelSizeSourceWords(slide.scale!.source))}${slide.scale!.confidence !== undefined ? `, confidence ${Math.round(slide.scale!.confidence * 100)}%` : ''})`
        : '–',
    ],
    tissuePx > 0
      ? [
          'Glomeruli per mm² of tissue',
          density
            ? `${density.text.perMm2} (tissue ${density.text.mm2} mm², ${Math.round((tissuePx / (width * height)) * 100)}% of the slide)`
            : '–',
        ]
      : ['Glomeruli per mm² of slide', density ? density.text.perMm2 : '–'],
    ...(m
      ? ([
          ['Global Dice', m.globalDice.toFixed(4)],
          [`Mean Dice per ${m.diceTileWidth} × ${m.diceTileHeight} px square`, m.meanTileDice.toFixed(4)],
          [
            'Precision / recall / F1 (IoU ≥ 0.5)',
            `${m.precision.toFixed(3)} / ${m.recall.toFixed(3)} / ${m.f1.toFixed(3)}`,
          ],
          [
            'True positives / false positives / missed',
            `${m.truePositives} / ${m.falsePositives} / ${m.falseNegatives}`,
          ],
        ] as Array<[string, string]>)
      : []),
  ];
  const note = slide.scale?.note ? `<p class="note">${escapeHtml(slide.scale.note)}</p>` : '';
  return (
    `<section><h2>${escapeHtml(slide.name)}</h2>${note}<div class="row"><div>${picture}${legendHtml(drawn)}</div><div>` +
    `<table class="metrics">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>` +
    (areas.length ? `<h3>Glomerulus sizes</h3>${histogramSvg(sizeHistogram(areas), areas)}` : '') +
    `</div></div>${glomerulusTableHtml(slide.name, objectRows)}</section>`
  );
}

export async function htmlReport(slides: ReportSlide[], overall: DiceMetrics | undefined): Promise<string> {
  const sections = [];
  for (const slide of slides) sections.push(await slideSection(slide));
  const pooled =
    overall && slides.filter((s) => s.metrics).length > 1
      ? `<p>All slides with annotations pooled: global Dice ${overall.globalDice.toFixed(4)}, mean tile Dice ${overall.meanTileDice.toFixed(4)}, F1 ${overall.f1.toFixed(4)}.</p>`
      : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>glomseg report</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#202124}section{margin-bottom:32px}.row{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}
.thumbnail{border:1px solid #ccc}table{border-collapse:collapse}th{text-align:left;font-weight:normal;color:#5f6368;padding:2px 12px 2px 0}td{font-variant-numeric:tabular-nums}
.legend{list-style:none;padding:0;margin:6px 0;font-size:13px}.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:-1px;border:1px solid #0003}
table.glomeruli td,table.glomeruli th{padding:1px 10px 1px 0;text-align:right}details.glomeruli{margin-top:12px}details.glomeruli .scroll{max-height:320px;overflow:auto;display:inline-block}
.note{background:#fff3cd;border:1px solid #ffc107;padding:6px 8px;border-radius:4px;max-width:900px}.failed{color:#b00020}svg text{font-family:system-ui,sans-serif}
</style></head><body><h1>glomseg report</h1><p>${slides.length} slide(s), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.</p>${pooled}${sections.join('')}</body></html>
`;
}
