/**
 * A viewer link names the slide, view and pixel size given in the page's URL (#slide=…&x=…&y=…&res=…&mpp=…), so it
 * opens the same place read at the same scale.
 */
import type View from 'ol/View.js';

export interface ViewLink {
  slide: string;
  /** Map coordinates (y = -slide y) and resolution, when the link names a view. */
  center?: [number, number];
  resolution?: number;
  /** Slide pixel size (um/px) given in the viewer's Pixel size box; absent: the slide's own. */
  mpp?: number;
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
  const mpp = Number(params.get('mpp'));
  const link: ViewLink =
    Number.isFinite(x) && Number.isFinite(y) && resolution > 0 ? { slide, center: [x, -y], resolution } : { slide };
  if (mpp > 0) link.mpp = mpp;
  return link;
}

/** Puts the slide, the view's place and a given pixel size (0: none) in the page's link (replacing the history entry). */
export function writeViewLink(slideId: string, view: View, mpp = 0): void {
  if (!view.isDef() || !globalThis.history) return;
  const [x, y] = view.getCenter()!;
  const params = new URLSearchParams({
    slide: slideId,
    x: x.toFixed(0),
    y: (-y).toFixed(0),
    res: view.getResolution()!.toPrecision(4),
  });
  if (mpp > 0) params.set('mpp', String(mpp));
  history.replaceState(history.state, '', `#${params}`);
}
