import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import TileLayer from 'ol/layer/Tile.js';
import { defaults as defaultControls } from 'ol/control/defaults.js';
import ScaleLine from 'ol/control/ScaleLine.js';
import MousePosition from 'ol/control/MousePosition.js';
import OverviewMap from 'ol/control/OverviewMap.js';
import ZoomToExtent from 'ol/control/ZoomToExtent.js';
import type { SlideMetadata } from '@glomseg/shared/slide-source.js';
import type { ErrorEventDetail } from '../../events.js';
import { glomsegEvent } from '../../events.js';
import { describeError, glomsegClient, serverBaseUrl, type RequestHeaders } from '../../glomseg-client.js';
import { slideInfoFromProto, slideSummaryFromProto } from '@glomseg/api/from-proto.js';
import { slideProjection, slideTileSource, type PixelSize } from '../../slide-pyramid.js';
import type { GlomsegOverlay } from '../overlay/glomseg-overlay.js';
import '../../overlay.js';
import { viewerStyles } from './glomseg-viewer.styles.js';

/** Size of the overview map's box in CSS pixels (kept in step with the styles). */
const OVERVIEW_BOX = { width: 220, height: 165 };

/** The slide and view a shared link names, if any (see writeLocation). */
function readLocation(): { slide: string; center?: [number, number]; resolution?: number } | undefined {
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

interface SlideEntry {
  id: string;
  name: string;
  fileSize: number;
}

/**
 * A complete slide viewer: slide list, the slide's pyramid from the glomseg server, zoom and pan, scale bar,
 * cursor position in slide pixels, overview map, and <glomseg-overlay> with its controls, annotations and Dice.
 *
 * @property serverUrl - Base URL of the glomseg server; default: this page's origin.
 * @property slide - Id of the slide to open; default: the first listed.
 * @property model - Model id for the overlay.
 * @property annotationsUrl - Annotations to load for the opened slide.
 *
 * @event glomseg-error - The slide list or a slide could not be loaded (detail: ErrorEventDetail). Overlay events bubble through too.
 *
 * @csspart layout - The two-column grid (sidebar, map).
 * @csspart sidebar - The left column.
 * @csspart slide-list - The list of slides.
 * @csspart slide-info - Size, pixel size and format of the open slide.
 * @csspart map-area - The map column.
 * @csspart map - The OpenLayers map.
 * @csspart cursor - Cursor position in level-0 slide pixels.
 * @csspart overlay - The <glomseg-overlay> element.
 * @csspart error - Visible error message.
 */
export class GlomsegViewer extends LitElement {
  static override styles = viewerStyles;

  @property({ attribute: 'server-url' }) serverUrl = '';
  @property() slide = '';
  @property() model = '';
  @property({ attribute: 'annotations-url' }) annotationsUrl = '';
  /** Headers for every gRPC-Web call (e.g. authorization), or a function that returns them; passed to the overlay. */
  @property({ attribute: false }) headers?: RequestHeaders;

  @state() private slides: SlideEntry[] = [];
  @state() private slideInfo?: SlideMetadata;
  @state() private error?: ErrorEventDetail;
  @state() private olMap?: OlMap;

  @query('[part=map]') private mapElement!: HTMLDivElement;
  @query('[part=cursor]') private cursorElement!: HTMLDivElement;

  private tileLayer?: TileLayer;
  private overview?: OverviewMap;
  private scaleLine?: ScaleLine;
  private slideAbort?: AbortController;
  /** um/px for the scale bar: the file's, else the one the model assumes (shown as such). */
  private pixelSize: PixelSize = {};
  @state() private pixelSizeAssumed = false;
  /** How a pixel size that is not in the file was arrived at, in words. */
  private scaleSource = '';
  /** The annotations URL belongs to the slide it was given with; another slide opens without it. */
  private annotationsSlide = '';

  /** The OpenLayers map (for portals and tests). */
  get map(): OlMap | undefined {
    return this.olMap;
  }

  /** The overlay inside the viewer. */
  get overlay(): GlomsegOverlay | null {
    return this.renderRoot.querySelector('glomseg-overlay');
  }

  protected override firstUpdated(): void {
    const mousePosition = new MousePosition({
      target: this.cursorElement,
      placeholder: '&nbsp;',
      coordinateFormat: (coordinate) => (coordinate ? `x ${Math.round(coordinate[0])}  y ${Math.round(-coordinate[1])} px` : ''),
    });
    this.olMap = new OlMap({
      target: this.mapElement,
      // The map div itself (focusable), not OpenLayers' default of the shadow host: the sidebar's sliders sit under
      // the host too, and their arrow and '-' keys must move the sliders, not pan or zoom the map.
      keyboardEventTarget: this.mapElement,
      controls: defaultControls({ attribution: false }).extend([mousePosition]),
      layers: [],
    });
    this.olMap.on('moveend', () => this.writeLocation());
    // Layout can settle after first paint (grid columns); keep the map's size in step.
    new ResizeObserver(() => this.olMap?.updateSize()).observe(this.mapElement);
    void this.loadSlideList();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.slideAbort?.abort();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('serverUrl') && changed.get('serverUrl') !== undefined) void this.loadSlideList();
    if (changed.has('slide') && this.olMap) void this.openSlide(this.slide);
    if (changed.has('annotationsUrl') && changed.get('annotationsUrl') === undefined) this.annotationsSlide = this.slide;
  }

  private async loadSlideList(): Promise<void> {
    try {
      const response = await glomsegClient(this.serverUrl, this.headers).listSlides({});
      this.slides = response.slides.map(slideSummaryFromProto);
      const linked = readLocation()?.slide;
      if (linked && this.slides.some((s) => s.id === linked)) this.slide = linked;
      else if (!this.slide && this.slides.length > 0) this.slide = this.slides[0].id;
      else if (this.slide && !this.slideInfo) void this.openSlide(this.slide);
    } catch (error) {
      this.showError(describeError(error, this.serverUrl));
    }
  }

  private async openSlide(slideId: string): Promise<void> {
    this.slideAbort?.abort();
    const abort = new AbortController();
    this.slideAbort = abort;
    const map = this.olMap;
    if (!slideId || !map) return;
    this.error = undefined;
    try {
      const info = await glomsegClient(this.serverUrl, this.headers).getSlideInfo({ slideId }, { signal: abort.signal });
      if (abort.signal.aborted) return;
      this.showSlide(map, slideInfoFromProto(info));
    } catch (error) {
      if (!abort.signal.aborted) this.showError(describeError(error, this.serverUrl));
    }
  }

  private showSlide(map: OlMap, slide: SlideMetadata): void {
    this.pixelSize = { micrometres: slide.mppX };
    this.pixelSizeAssumed = false;
    const projection = slideProjection(slide, this.pixelSize);
    const extent = projection.getExtent();
    const source = slideTileSource(slide, projection, serverBaseUrl(this.serverUrl));
    const maxDownsample = Math.max(...slide.levels.map((l) => l.downsample));
    // Defined from the start (centre and resolution): the overlay reads the view's extent as soon as it is set.
    const view = new View({
      projection,
      extent,
      center: [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2],
      resolution: maxDownsample,
      constrainOnlyCenter: true,
      maxResolution: maxDownsample * 4,
      minResolution: 1 / 8,
    });
    if (this.tileLayer) map.removeLayer(this.tileLayer);
    // The layer extent clips edge tiles, whose stored pixels run past the slide.
    this.tileLayer = new TileLayer({ source, extent, zIndex: 0 });
    map.getLayers().insertAt(0, this.tileLayer);
    map.setView(view);
    map.updateSize();
    // A shared link's view of this slide, else the whole slide.
    const linked = readLocation();
    const place = () => {
      if (linked && linked.slide === slide.id && linked.center && linked.resolution) {
        view.setCenter(linked.center);
        view.setResolution(linked.resolution);
      } else view.fit(extent, { padding: [10, 10, 10, 10] });
    };
    if (map.getSize()?.every((n) => n > 0)) place();
    else map.once('change:size', place);

    if (this.overview) map.removeControl(this.overview);
    // The overview always shows the whole slide, as large as its box allows (it does not zoom with the map).
    const overviewResolution = Math.max(slide.width / OVERVIEW_BOX.width, slide.height / OVERVIEW_BOX.height);
    this.overview = new OverviewMap({
      layers: [new TileLayer({ source: slideTileSource(slide, projection, serverBaseUrl(this.serverUrl)), extent })],
      view: new View({
        projection,
        center: [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2],
        resolution: overviewResolution,
        minResolution: overviewResolution,
        maxResolution: overviewResolution,
      }),
      collapsed: false,
      collapsible: true,
      tipLabel: 'Overview',
    });
    map.addControl(this.overview);
    if (this.scaleLine) map.removeControl(this.scaleLine);
    this.scaleLine = undefined;
    if (slide.mppX) this.addScaleLine(map);
    map.addControl(new ZoomToExtent({ extent, label: '⤢', tipLabel: 'Whole slide' }));
    this.slideInfo = slide;
  }

  /** Puts the open slide and view in the page's URL (#slide=…&x=…&y=…&res=…), so the link opens the same place. */
  private writeLocation(): void {
    const view = this.olMap?.getView();
    const slide = this.slideInfo;
    if (!view?.isDef() || !slide || !globalThis.history) return;
    const [x, y] = view.getCenter()!;
    const params = new URLSearchParams({ slide: slide.id, x: x.toFixed(0), y: (-y).toFixed(0), res: view.getResolution()!.toPrecision(4) });
    history.replaceState(history.state, '', `#${params}`);
  }

  private addScaleLine(map: OlMap): void {
    this.scaleLine = new ScaleLine({ units: 'metric', minWidth: 80 });
    map.addControl(this.scaleLine);
  }

  /** A slide that does not state its pixel size gets the scale bar of the pixel size estimated or assumed for it. */
  private onOverlayProgress(): void {
    const grid = this.overlay?.grid;
    const map = this.olMap;
    const slide = this.slideInfo;
    if (!map || !slide || slide.mppX || !grid?.mppAssumed || grid.slideId !== slide.id) return;
    const scaleSource =
      grid.mppSource === 'estimated'
        ? `estimated from the image, confidence ${Math.round((grid.mppConfidence ?? 0) * 100)}%`
        : grid.mppSource === 'request'
          ? 'not in the file: as given (mpp-override)'
          : 'not in the file: assumed by the model';
    if (this.pixelSizeAssumed && this.pixelSize.micrometres === grid.mppAssumed && this.scaleSource === scaleSource) return;
    this.pixelSize.micrometres = grid.mppAssumed;
    this.scaleSource = scaleSource;
    this.pixelSizeAssumed = true;
    this.requestUpdate();
    if (!this.scaleLine) this.addScaleLine(map);
  }

  private showError(error: ErrorEventDetail): void {
    this.error = error;
    this.dispatchEvent(glomsegEvent('glomseg-error', error));
  }

  protected override render() {
    const slide = this.slideInfo;
    const annotationsUrl = this.annotationsSlide && this.annotationsSlide === this.slide ? this.annotationsUrl : '';
    // While a chosen slide opens the overlay has none: the previous slide's annotations go at once, and annotations
    // loaded meanwhile are the new slide's (they were dropped when its info arrived).
    return html`
      <div part="layout">
      <aside part="sidebar">
        <h2>glomseg</h2>
        <section>
          <h3>Slides</h3>
          <ul part="slide-list">
            ${this.slides.map(
              (s) => html`<li><button aria-current=${String(s.id === this.slide)} title=${s.id} @click=${() => (this.slide = s.id)}>${s.name}
                <span class="muted">${(s.fileSize / 1e6).toFixed(1)} MB</span></button></li>`,
            )}
          </ul>
        </section>
        ${slide
          ? html`<section part="slide-info">
              <h3>${slide.name}</h3>
              ${slide.width} × ${slide.height} px · ${slide.levels.length} levels · ${slide.format}, ${slide.compression}<br />
              ${slide.mppX
                ? html`${slide.mppX.toFixed(3)} µm/px`
                : this.pixelSizeAssumed
                  ? html`${this.pixelSize.micrometres?.toFixed(3)} µm/px <span class="muted" data-scale-source>(${this.scaleSource})</span>`
                  : html`<span class="muted">pixel size not in the file</span>`}
            </section>`
          : nothing}
        ${this.error ? html`<div part="error" role="alert" data-code=${this.error.code}>${this.error.message}</div>` : nothing}
        <glomseg-overlay
          part="overlay"
          .map=${this.olMap}
          .headers=${this.headers}
          server-url=${this.serverUrl}
          slide=${slide?.id === this.slide ? this.slide : ''}
          model=${this.model}
          annotations-url=${annotationsUrl}
          @glomseg-progress=${this.onOverlayProgress}
        ></glomseg-overlay>
      </aside>
      <div part="map-area">
        <div part="map" tabindex="0" aria-label="Slide: drag to pan, wheel or +/- to zoom, arrow keys to pan"></div>
        <div part="cursor"></div>
      </div>
      </div>
    `;
  }
}
