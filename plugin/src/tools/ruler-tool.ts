/**
 * A ruler on the slide map: OpenLayers' Draw interaction for a LineString (click to add points, double-click or
 * Enter to finish, Escape to drop the line being drawn, Backspace to take back its last point). Its length is in
 * level-0 pixels (the map's units) times the slide's pixel size, shown beside the line's end on the map itself, so
 * a snapshot of the view keeps it.
 */
import type OlMap from 'ol/Map.js';
import Draw, { type DrawEvent } from 'ol/interaction/Draw.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import LineString from 'ol/geom/LineString.js';
import Point from 'ol/geom/Point.js';
import Stroke from 'ol/style/Stroke.js';
import Fill from 'ol/style/Fill.js';
import Style from 'ol/style/Style.js';
import Text from 'ol/style/Text.js';
import CircleStyle from 'ol/style/Circle.js';
import type { FeatureLike } from 'ol/Feature.js';
import type { MeasureEventDetail } from '../events.js';

/** Length of a polyline in map units (level-0 pixels). */
export function polylineLength(coordinates: readonly number[][]): number {
  let length = 0;
  for (let i = 1; i < coordinates.length; i++)
    length += Math.hypot(coordinates[i][0] - coordinates[i - 1][0], coordinates[i][1] - coordinates[i - 1][1]);
  return length;
}

/** A length as read on a slide: µm below 1 mm (one decimal under 10 µm), mm above; pixels when the scale is unknown. */
export function measurement(lengthPx: number, mpp: number | undefined): MeasureEventDetail {
  if (!mpp) return { lengthPx, text: `${Math.round(lengthPx).toLocaleString('en')} px` };
  const lengthUm = lengthPx * mpp;
  const text =
    lengthUm >= 1000
      ? `${(lengthUm / 1000).toFixed(2)} mm`
      : `${lengthUm < 10 ? lengthUm.toFixed(1) : Math.round(lengthUm).toLocaleString('en')} µm`;
  return { lengthPx, lengthUm, text };
}

const LINE = new Stroke({ color: '#ffffff', width: 4 });
const LINE_INNER = new Stroke({ color: '#202124', width: 2, lineDash: [8, 6] });

export class RulerTool {
  readonly source = new VectorSource();
  readonly layer = new VectorLayer({
    source: this.source,
    style: (feature) => this.style(feature),
    zIndex: 30,
    properties: { name: 'glomseg-ruler' },
  });
  private draw?: Draw;
  private map?: OlMap;

  /** `mpp`: level-0 µm/px when known; `onMeasure`: a line was finished. */
  constructor(
    private readonly mpp: () => number | undefined,
    private readonly onMeasure: (detail: MeasureEventDetail) => void = () => {},
  ) {}

  get active(): boolean {
    return !!this.draw;
  }

  /** Lines measured so far, oldest first. */
  get measurements(): MeasureEventDetail[] {
    return this.source
      .getFeatures()
      .map((f) => measurement(polylineLength((f.getGeometry() as LineString).getCoordinates()), this.mpp()));
  }

  /** Starts measuring on `map` (the measured lines stay shown until cleared). */
  activate(map: OlMap): void {
    if (this.map !== map) this.attach(map);
    if (this.draw) return;
    this.draw = new Draw({ source: this.source, type: 'LineString', style: (feature) => this.style(feature) });
    this.draw.on('drawend', (event: DrawEvent) => {
      const line = event.feature.getGeometry() as LineString;
      this.onMeasure(measurement(polylineLength(line.getCoordinates()), this.mpp()));
    });
    map.addInteraction(this.draw);
  }

  /** Stops measuring (a line half drawn is dropped); the finished ones stay. */
  deactivate(): void {
    if (!this.draw) return;
    this.draw.abortDrawing();
    this.map?.removeInteraction(this.draw);
    this.draw = undefined;
  }

  /** Keys while measuring: Enter finishes the line, Escape drops it, Backspace takes back its last point. */
  handleKey(key: string): boolean {
    const draw = this.draw;
    if (!draw) return false;
    if (key === 'Enter') draw.finishDrawing();
    else if (key === 'Escape') draw.abortDrawing();
    else if (key === 'Backspace') draw.removeLastPoint();
    else return false;
    return true;
  }

  clear(): void {
    this.draw?.abortDrawing();
    this.source.clear();
  }

  detach(): void {
    this.deactivate();
    this.map?.removeLayer(this.layer);
    this.map = undefined;
  }

  private attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addLayer(this.layer);
  }

  /** A dashed line with a halo, its length at its last point (the pointer's point, while drawing). */
  private style(feature: FeatureLike): Style[] {
    const geometry = feature.getGeometry();
    if (!(geometry instanceof LineString))
      return [new Style({ image: new CircleStyle({ radius: 4, fill: new Fill({ color: '#202124' }), stroke: LINE }) })];
    const coordinates = geometry.getCoordinates();
    const label = measurement(polylineLength(coordinates), this.mpp()).text;
    return [
      new Style({ stroke: LINE }),
      new Style({ stroke: LINE_INNER }),
      new Style({
        geometry: new Point(coordinates[coordinates.length - 1]),
        text: new Text({
          text: label,
          font: '600 13px system-ui, sans-serif',
          offsetX: 10,
          offsetY: -12,
          textAlign: 'left',
          fill: new Fill({ color: '#202124' }),
          backgroundFill: new Fill({ color: 'rgba(255, 255, 255, 0.9)' }),
          padding: [2, 4, 2, 4],
        }),
      }),
    ];
  }
}
