/**
 * A PNG of what an OpenLayers map shows now: the slide, the predictions, annotations, heatmap and ruler, each layer's
 * canvas drawn with its opacity and transform (OpenLayers' own export recipe) once the map has rendered completely.
 * The map's own canvases only: an overview map inside its controls has canvases too, and they are left out.
 */
import type OlMap from 'ol/Map.js';

/** The map's layers composed on one canvas, at the device's pixel ratio. */
export function composeMapCanvas(map: OlMap, background = '#ffffff'): HTMLCanvasElement {
  const viewport = map.getViewport() as HTMLElement | undefined;
  const [width, height] = map.getSize() ?? [0, 0];
  const ratio = map.getPixelRatio?.() ?? window.devicePixelRatio;
  const out = document.createElement('canvas');
  out.width = Math.round(width * ratio);
  out.height = Math.round(height * ratio);
  const context = out.getContext('2d')!;
  context.fillStyle = background;
  context.fillRect(0, 0, out.width, out.height);
  if (!viewport) return out;
  for (const canvas of viewport.querySelectorAll<HTMLCanvasElement>('.ol-layer canvas, canvas.ol-layer')) {
    if (canvas.width === 0 || canvas.closest('.ol-viewport') !== viewport) continue;
    const parent = canvas.parentElement!;
    const opacity = parent.style.opacity || canvas.style.opacity;
    context.globalAlpha = opacity === '' ? 1 : Number(opacity);
    const matrix = canvas.style.transform
      ? /^matrix\(([^)]*)\)$/.exec(canvas.style.transform)![1].split(',').map(Number)
      : [parseFloat(canvas.style.width) / canvas.width, 0, 0, parseFloat(canvas.style.height) / canvas.height, 0, 0];
    // The layer canvases' transforms are in CSS pixels; scale them to the output's device pixels.
    context.setTransform(
      matrix[0] * ratio,
      matrix[1] * ratio,
      matrix[2] * ratio,
      matrix[3] * ratio,
      matrix[4] * ratio,
      matrix[5] * ratio,
    );
    context.drawImage(canvas, 0, 0);
  }
  context.globalAlpha = 1;
  context.setTransform(1, 0, 0, 1, 0, 0);
  return out;
}

/** Longest wait for the map to finish drawing (tiles still loading, predictions still streaming) before saving. */
const RENDER_WAIT_MS = 5000;

/** The view as PNG, once every tile and feature in view is drawn (or after RENDER_WAIT_MS, as it is then). */
export function mapSnapshot(map: OlMap, signal?: AbortSignal): Promise<Blob> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    let done = false;
    const save = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (signal?.aborted) return reject(signal.reason);
      composeMapCanvas(map).toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the map could not be saved'))));
    };
    const timer = setTimeout(save, RENDER_WAIT_MS);
    map.once('rendercomplete', save);
    map.render();
  });
}

/** Saves a blob as a file download named `name`. */
export function downloadBlob(blob: Blob, name: string): void {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
