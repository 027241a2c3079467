/**
 * The viewer's OpenLayers map of one slide: the pyramid from the glomseg server, zoom and pan, cursor position in
 * slide pixels, overview, "whole slide" button, the scale bar (the file's pixel size, else the one the model
 * assumes, said as such), and the view kept in the page's link.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import TileLayer from 'ol/layer/Tile.js';
import type Projection from 'ol/proj/Projection.js';
import { defaults as defaultControls } from 'ol/control/defaults.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import MousePosition from 'ol/control/MousePosition.js';
import OverviewMap from 'ol/control/OverviewMap.js';
import ZoomToExtent from 'ol/control/ZoomToExtent.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { TileGrid } from '@glomseg/shared/tile-grid.js';
import { slideProjection, slideTileSource, type PixelSize } from '../slide-pyramid.js';
import type { RequestHeaders } from '../glomseg-client.js';
import { readViewLink, writeViewLink } from '../components/viewer/view-link.js';

/**
 * The overview map's box in CSS pixels: 15 % of the map's width, 120 to 220 px wide, 4:3 (a fixed 220 x 165 covered
 * a laptop's map where the glomeruli are).
 */
export function overviewBox(mapWidth: number): { width: number; height: number } {
  const width = Math.round(Math.min(220, Math.max(120, mapWidth * 0.15)));
  return { width, height: Math.round((width * 3) / 4) };
}

export class SlideMapController implements ReactiveController {
  map?: OlMap;
  /** The slide shown. */
  slide?: SlideMetadata;
  /** um/px for the scale bar: the file's, else the one the model assumes (then `scaleSource` says how it was arrived at). */
  readonly pixelSize: PixelSize = {};
  pixelSizeAssumed = false;
  scaleSource = '';
  /** Pixel size (um/px) given in the viewer's Pixel size box, kept in the link; 0: the slide's own. */
  mpp = 0;
  private tileLayer?: TileLayer;
  private overview?: OverviewMap;
  private scaleLine?: ScaleLine;
  private resizeObserver?: ResizeObserver;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.resizeObserver?.disconnect();
  }

  /** Makes the map in `target`, with the cursor read-out in `cursor`. */
  create(target: HTMLElement, cursor: HTMLElement): OlMap {
    const mousePosition = new MousePosition({
      target: cursor,
      placeholder: '&nbsp;',
      coordinateFormat: (coordinate) =>
        coordinate ? `x ${Math.round(coordinate[0])}  y ${Math.round(-coordinate[1])} px` : '',
    });
    const map = new OlMap({
      target,
      // The map div itself (focusable), not OpenLayers' default of the shadow host: the sidebar's sliders sit under
      // the host too, and their arrow and '-' keys must move the sliders, not pan or zoom the map.
      keyboardEventTarget: target,
      controls: defaultControls({ attribution: false }).extend([mousePosition]),
      layers: [],
    });
    map.on('moveend', () => this.writeLink());
    // Layout can settle after first paint (grid columns); keep the map's size in step.
    this.resizeObserver = new ResizeObserver(() => map.updateSize());
    this.resizeObserver.observe(target);
    this.map = map;
    return map;
  }

  /** Shows a slide: its pyramid, a view of it (the link's, else the whole slide), overview and scale bar. */
  show(slide: SlideMetadata, baseUrl: string, headers?: RequestHeaders): void {
    const map = this.map;
    if (!map) return;
    this.pixelSize.micrometres = slide.mppX;
    this.pixelSizeAssumed = false;
    const projection = slideProjection(slide, this.pixelSize);
    const extent = projection.getExtent();
    if (this.tileLayer) map.removeLayer(this.tileLayer);
    // The layer extent clips edge tiles, whose stored pixels run past the slide.
    this.tileLayer = new TileLayer({ source: slideTileSource(slide, projection, baseUrl, headers), extent, zIndex: 0 });
    map.getLayers().insertAt(0, this.tileLayer);
    map.updateSize();
    const view = slideView(slide, projection, map.getSize());
    map.setView(view);
    map.updateSize();
    const linked = readViewLink();
    const place = () => {
      if (linked && linked.slide === slide.id && linked.center && linked.resolution) {
        view.setCenter(linked.center);
        view.setResolution(linked.resolution);
      } else view.fit(extent, { padding: [FIT_PADDING, FIT_PADDING, FIT_PADDING, FIT_PADDING] });
    };
    if (map.getSize()?.every((n) => n > 0)) place();
    else map.once('change:size', place);
    this.showOverview(map, slide, projection, baseUrl, headers);
    if (this.scaleLine) map.removeControl(this.scaleLine);
    this.scaleLine = undefined;
    if (slide.mppX) this.addScaleLine(map);
    map.addControl(new ZoomToExtent({ extent, label: '⤢', tipLabel: 'Whole slide' }));
    this.slide = slide;
    this.host.requestUpdate();
  }

  /** Puts the slide, view and given pixel size in the page's link. */
  writeLink(): void {
    if (this.map && this.slide) writeViewLink(this.slide.id, this.map.getView(), this.mpp);
  }

  /** A slide that does not state its pixel size gets the scale bar of the pixel size estimated or assumed for it. */
  assumePixelSize(grid: TileGrid | undefined): void {
    const map = this.map;
    const slide = this.slide;
    if (!map || !slide || slide.mppX || !grid?.mppAssumed || grid.slideId !== slide.id) return;
    const scaleSource =
      grid.mppSource === 'estimated'
        ? `estimated from the image, confidence ${Math.round((grid.mppConfidence ?? 0) * 100)}%`
        : grid.mppSource === 'request'
          ? 'not in the file: as given in Pixel size'
          : 'not in the file: assumed by the model';
    if (this.pixelSizeAssumed && this.pixelSize.micrometres === grid.mppAssumed && this.scaleSource === scaleSource)
      return;
    this.pixelSize.micrometres = grid.mppAssumed;
    this.scaleSource = scaleSource;
    this.pixelSizeAssumed = true;
    this.host.requestUpdate();
    if (!this.scaleLine) this.addScaleLine(map);
  }

  /** The overview always shows the whole slide, as large as its box allows (it does not zoom with the map). */
  private showOverview(
    map: OlMap,
    slide: SlideMetadata,
    projection: Projection,
    baseUrl: string,
    headers?: RequestHeaders,
  ): void {
    if (this.overview) map.removeControl(this.overview);
    const extent = projection.getExtent();
    const box = overviewBox(map.getSize()?.[0] ?? 0);
    const resolution = Math.max(slide.width / box.width, slide.height / box.height);
    this.overview = new OverviewMap({
      layers: [new TileLayer({ source: slideTileSource(slide, projection, baseUrl, headers), extent })],
      view: new View({
        projection,
        center: [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2],
        resolution,
        minResolution: resolution,
        maxResolution: resolution,
      }),
      collapsed: false,
      collapsible: true,
      tipLabel: 'Overview',
    });
    map.addControl(this.overview);
    // Its map gets its element once the control is on the map.
    const overviewElement = this.overview.getOverviewMap().getTargetElement();
    if (overviewElement) Object.assign(overviewElement.style, { width: `${box.width}px`, height: `${box.height}px` });
    this.overview.getOverviewMap().updateSize();
  }

  private addScaleLine(map: OlMap): void {
    this.scaleLine = new ScaleLine({ units: 'metric', minWidth: 80 });
    map.addControl(this.scaleLine);
  }
}

/** Closest zoom: level-0 pixels drawn this many times their size (2: no more than 2x beyond full resolution). */
const MAX_MAGNIFICATION = 2;
/** The margin (CSS px) around the whole slide when it is fitted to the map. */
const FIT_PADDING = 10;

/**
 * Defined from the start (centre and resolution): the overlay reads the view's extent as soon as it is set. Its
 * zoom runs from the whole slide in the map (`size`, with its margin; unknown yet: 4x the coarsest level) to
 * MAX_MAGNIFICATION, halving each step; the last step is what is left to that limit.
 */
function slideView(slide: SlideMetadata, projection: Projection, size: number[] | undefined): View {
  const extent = projection.getExtent();
  const maxDownsample = Math.max(...slide.levels.map((l) => l.downsample));
  const wholeSlide =
    size && size.every((n) => n > 2 * FIT_PADDING)
      ? Math.max(slide.width / (size[0] - 2 * FIT_PADDING), slide.height / (size[1] - 2 * FIT_PADDING))
      : maxDownsample * 4;
  const closest = 1 / MAX_MAGNIFICATION;
  const resolutions = [Math.max(wholeSlide, closest)];
  while (resolutions[resolutions.length - 1] / 2 > closest * 1.05)
    resolutions.push(resolutions[resolutions.length - 1] / 2);
  if (resolutions[resolutions.length - 1] > closest) resolutions.push(closest);
  return new View({
    projection,
    extent,
    center: [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2],
    resolution: Math.min(maxDownsample, resolutions[0]),
    constrainOnlyCenter: true,
    resolutions,
  });
}
