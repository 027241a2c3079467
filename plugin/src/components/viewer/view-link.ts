/** A viewer link names the slide and view in the page's URL (#slide=…&x=…&y=…&res=…), so it opens the same place. */
import type View from 'ol/View.js';

export interface ViewLink {
  slide: string;
  /** Map coordinates (y = -slide y) and resolution, when the link names a view. */
  center?: [number, number];
  resolution?: number;
}

/** The slide and view the page's link names, if any. */
export function readViewLink(): ViewLink | undefined {
  const hash = globalThis.location?.hash.replace(/^#/, '');
  if (!hash) return undefined;
  const params = new URLSearchParams(hash);
  const slide = params.get('slide');
  if (!slide) return undefined;
  const x = Number(params.get('x'));
  const y = Number(params.get('y'));
  const resolution = Number(params.get('res'));
  return Number.isFinite(x) && Number.isFinite(y) && resolution > 0 ? { slide, center: [x, -y], resolution } : { slide };
}

/** Puts the slide and the view's place in the page's link (replacing the history entry, not adding one). */
export function writeViewLink(slideId: string, view: View): void {
  if (!view.isDef() || !globalThis.history) return;
  const [x, y] = view.getCenter()!;
  const params = new URLSearchParams({ slide: slideId, x: x.toFixed(0), y: (-y).toFixed(0), res: view.getResolution()!.toPrecision(4) });
  history.replaceState(history.state, '', `#${params}`);
}
