/** `report.html`: one self-contained page of every slide (html-report.ts), failed slides last. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { intersectRects } from '@glomseg/shared/geometry.js';
import { readGroundTruth } from '@glomseg/shared/ground-truth.js';
import { htmlReport, type ReportSlide, type ReportTruth } from '../html-report.js';
import type { BatchSettings } from '../batch-manifest.js';
import type { SlideResult } from '../batch-result.js';
import { findAnnotations } from '../truth-files.js';
import { registerBatchExport } from './registry.js';

/**
 * The ground truth a slide was scored against, read as the server read it (classes, the slide's bounds, repairs),
 * and the region its objects were matched over; undefined without annotations or when the file is gone.
 */
async function truthOf(settings: BatchSettings, file: string, result: SlideResult): Promise<ReportTruth | undefined> {
  if (!settings.annotations || !result.metrics) return undefined;
  const annotations = await findAnnotations(settings.annotations, file).catch(() => undefined);
  const content = annotations ? await readFile(annotations, 'utf8').catch(() => undefined) : undefined;
  if (!annotations || content === undefined) return undefined;
  const { width, height } = result;
  const { polygons } = readGroundTruth(content, {
    format: 'auto',
    name: path.basename(annotations),
    width,
    height,
    classes: settings.truthClasses ?? undefined,
  });
  const slide = { x: 0, y: 0, width, height };
  const region = settings.region ? (intersectRects(settings.region, slide) ?? slide) : slide;
  return { polygons, region };
}

registerBatchExport({
  fileName: 'report.html',
  write: async ({ slides, overall, polygons, settings }) => {
    const report: ReportSlide[] = [];
    for (const { file, result } of slides) {
      if (result)
        report.push({
          ...result,
          file,
          ok: true,
          polygons: await polygons(result.name),
          truth: await truthOf(settings, file, result),
        });
    }
    for (const { file, entry } of slides)
      if (entry.status === 'failed') report.push({ name: entry.name, file, ok: false, error: entry.error });
    return htmlReport(report, overall);
  },
});
