/** The measurements of the predicted glomerulus under the pointer (or last clicked), in a tooltip on the map. */
import type OlMap from 'ol/Map.js';
import OlOverlay from 'ol/Overlay.js';
import type MapBrowserEvent from 'ol/MapBrowserEvent.js';
import type Layer from 'ol/layer/Layer.js';
import { unByKey } from 'ol/Observable.js';
import type { EventsKey } from 'ol/events.js';

export class MeasurementTooltip {
  private readonly element = Object.assign(document.createElement('div'), { className: 'glomseg-measurements' });
  private readonly overlay = new OlOverlay({
    element: this.element,
    offset: [12, 12],
    positioning: 'top-left',
    stopEvent: false,
  });
  private map?: OlMap;
  private keys: EventsKey[] = [];

  /** `mpp`: level-0 um/px, when known; `shown`: whether the layer's polygons are drawn. */
  constructor(
    private readonly layer: Layer,
    private readonly mpp: () => number | undefined,
    private readonly shown: () => boolean,
  ) {
    Object.assign(this.element.style, {
      background: 'rgba(20, 20, 20, 0.85)',
      color: '#fff',
      font: '12px/1.4 system-ui, sans-serif',
      padding: '4px 8px',
      borderRadius: '4px',
      pointerEvents: 'none',
      whiteSpace: 'nowrap',
      display: 'none',
    });
  }

  attach(map: OlMap): void {
    this.detach();
    this.map = map;
    map.addOverlay(this.overlay);
    this.keys = [
      map.on('pointermove', (event) => this.show(event)),
      map.on('singleclick', (event) => this.show(event)),
    ];
  }

  detach(): void {
    unByKey(this.keys);
    this.keys = [];
    this.map?.removeOverlay(this.overlay);
    this.map = undefined;
  }

  /** Area, mean probability and match class of the prediction under the pointer. */
  private show(event: MapBrowserEvent<PointerEvent | KeyboardEvent | WheelEvent>): void {
    if (event.dragging) return;
    const feature =
      this.layer.getVisible() && this.shown()
        ? event.map.forEachFeatureAtPixel(event.pixel, (f) => f, {
            layerFilter: (layer) => layer === this.layer,
            hitTolerance: 2,
          })
        : undefined;
    if (!feature) {
      this.element.style.display = 'none';
      return;
    }
    const mpp = this.mpp();
    const area = feature.get('area') as number;
    const cls = feature.get('class') as string | undefined;
    const words =
      cls === 'true-positive' ? 'true positive' : cls === 'false-positive' ? 'false positive' : 'not scored';
    const size = mpp
      ? `${Math.round(area * mpp * mpp).toLocaleString('en')} µm²`
      : `${Math.round(area).toLocaleString('en')} px²`;
    this.element.textContent = `Glomerulus (predicted) · ${size} · mean probability ${(feature.get('meanProbability') as number).toFixed(2)} · ${words}`;
    this.element.style.display = 'block';
    this.overlay.setPosition(event.coordinate);
  }
}
