/** `metrics.json`: each slide's outcome, count, scale, time and Dice, and the pooled `overall`. */
import { registerBatchExport } from './registry.js';

export const METRICS_FILE = 'metrics.json';

registerBatchExport({
  fileName: METRICS_FILE,
  write: ({ slides, overall }) => {
    const rows = slides.map(({ file, entry, result }) =>
      result
        ? {
            slide: result.name,
            file,
            ok: true,
            status: 'done',
            glomeruli: result.glomeruli,
            scale: result.scale,
            elapsedMs: Math.round(result.elapsedMs),
            metrics: result.metrics,
          }
        : {
            slide: entry.name,
            file,
            ok: false,
            status: entry.status === 'done' ? 'pending' : entry.status,
            error: entry.error,
          },
    );
    return `${JSON.stringify({ overall, slides: rows }, null, 2)}\n`;
  },
});
