/**
 * Slide pixels (level 0, y down) <-> map coordinates. OpenLayers' y grows up; pixel maps put the slide either at
 * y = -slideY (top-left origin, as Zoomify / IIIF sources and <glomseg-viewer> do) or at y = height - slideY
 * (bottom-left origin, as ol/source/ImageStatic with extent [0, 0, width, height] does).
 */
import type { Rect, Ring } from '@glomseg/shared/geometry.js';

export type PixelOrigin = 'top-left' | 'bottom-left';

export class SlideFrame {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly origin: PixelOrigin = 'top-left',
  ) {}

  toMapY(y: number): number {
    return this.origin === 'top-left' ? -y : this.height - y;
  }

  fromMapY(mapY: number): number {
    return this.origin === 'top-left' ? -mapY : this.height - mapY;
  }

  /** Map coordinates of a slide ring, closed as OpenLayers wants. */
  ringToMap(ring: Ring): number[][] {
    const coordinates = ring.map(([x, y]) => [x, this.toMapY(y)]);
    if (coordinates.length > 0) coordinates.push([...coordinates[0]]);
    return coordinates;
  }

  /** The slide extent in map coordinates: [minX, minY, maxX, maxY]. */
  mapExtent(): [number, number, number, number] {
    const y0 = this.toMapY(0);
    const y1 = this.toMapY(this.height);
    return [0, Math.min(y0, y1), this.width, Math.max(y0, y1)];
  }

  /** A level-0 rectangle as a map extent: [minX, minY, maxX, maxY]. */
  mapExtentOf(rect: Rect): [number, number, number, number] {
    const y0 = this.toMapY(rect.y);
    const y1 = this.toMapY(rect.y + rect.height);
    return [rect.x, Math.min(y0, y1), rect.x + rect.width, Math.max(y0, y1)];
  }

  /** A map extent as a level-0 rectangle, clipped to the slide; undefined when it misses the slide. */
  viewRect(extent: readonly number[]): Rect | undefined {
    const [minX, minY, maxX, maxY] = extent;
    const ya = this.fromMapY(minY);
    const yb = this.fromMapY(maxY);
    const x0 = Math.max(0, minX);
    const x1 = Math.min(this.width, maxX);
    const y0 = Math.max(0, Math.min(ya, yb));
    const y1 = Math.min(this.height, Math.max(ya, yb));
    if (!(x1 > x0 && y1 > y0)) return undefined;
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }

  /** Map coordinate -> slide pixel. */
  toSlide(coordinate: readonly number[]): [number, number] {
    return [coordinate[0], this.fromMapY(coordinate[1])];
  }
}
