/** `report.html`: one self-contained page of every slide (html-report.ts), failed slides last. */
import { htmlReport, type ReportSlide } from '../html-report.js';
import { registerBatchExport } from './registry.js';

registerBatchExport({
  fileName: 'report.html',
  write: async ({ slides, overall, polygons }) => {
    const report: ReportSlide[] = [];
    for (const { file, result } of slides) if (result) report.push({ ...result, file, ok: true, polygons: await polygons(result.name) });
    for (const { file, entry } of slides) if (entry.status === 'failed') report.push({ name: entry.name, file, ok: false, error: entry.error });
    return htmlReport(report, overall);
  },
});
