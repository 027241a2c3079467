import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import type OlMap from 'ol/Map.js';
import { GlomsegElement } from '../../internal/glomseg-element.js';
import { glomsegEvent, type ErrorEventDetail, type GlomsegPanelInputEvent } from '../../events.js';
import { describeError, glomsegClient, serverBaseUrl, type RequestHeaders } from '../../glomseg-client.js';
import { SignInController } from '../../controllers/sign-in-controller.js';
import GlomsegSignIn from '../sign-in/glomseg-sign-in.component.js';
import { slideInfoFromProto, slideSummaryFromProto } from '@glomseg/api/client/from-proto.js';
import { SlideMapController } from '../../controllers/slide-map-controller.js';
import { MapToolsController } from '../../controllers/map-tools-controller.js';
import { KeyboardShortcutsController } from '../../controllers/keyboard-shortcuts-controller.js';
import GlomsegMapTools from '../map-tools/glomseg-map-tools.component.js';
import GlomsegShortcutHelp from '../shortcut-help/glomseg-shortcut-help.component.js';
import GlomsegGlomerulusTable from '../glomerulus-table/glomseg-glomerulus-table.component.js';
import { glomeruliTemplate, mapToolsTemplate } from './map-tools-template.js';
import GlomsegOverlay from '../overlay/glomseg-overlay.component.js';
import { readViewLink } from './view-link.js';
import { viewerStyles } from './glomseg-viewer.styles.js';
import {
  mapErrorTemplate,
  signInTemplate,
  slideInfoTemplate,
  slideListTemplate,
  type SlideEntry,
} from './viewer-sections-template.js';

/** Errors that mean the slide itself cannot be read or shown, whatever the view. */
const SLIDE_FATAL_CODES = new Set(['FAILED_PRECONDITION', 'UNIMPLEMENTED', 'NOT_FOUND', 'DATA_LOSS']);

/**
 * A complete slide viewer: slide list, the slide's pyramid from the glomseg server, zoom and pan, scale bar,
 * cursor position in slide pixels, overview map, and <glomseg-overlay> with its controls, annotations and Dice.
 *
 * @dependency glomseg-overlay
 * @dependency glomseg-sign-in
 * @dependency glomseg-map-tools
 * @dependency glomseg-shortcut-help
 * @dependency glomseg-glomerulus-table
 *
 * @property serverUrl - Base URL of the glomseg server; default: this page's origin.
 * @property slide - Id of the slide to open; default: the first listed.
 * @property model - Model id for the overlay.
 * @property annotationsUrl - Annotations to load for the opened slide.
 * @property headers - Headers for every gRPC-Web call and slide tile, or a function that returns them; passed to the overlay (set as a property). Unset, a server that wants a token gets the sign-in form.
 *
 * @event glomseg-error - The slide list or a slide could not be loaded (detail: ErrorEventDetail). Overlay events bubble through too.
 * @event glomseg-measure - A line was measured with the ruler (detail: MeasureEventDetail).
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
 * @csspart map-error - Over the map: why the slide cannot be shown (unreadable or unsupported file, server gone).
 * @csspart link-notice - Says that the page's link named a slide this server does not have, and which one opened instead.
 * @csspart sign-out - Forgets the token entered in the sign-in form.
 * @csspart sign-in-backdrop - Covers the viewer while it asks for a token.
 * @csspart sign-in - The <glomseg-sign-in> form.
 * @csspart map-tools - Over the map: outline, heatmap, ruler, snapshot and help (<glomseg-map-tools>).
 * @csspart shortcut-help - The keyboard shortcuts dialog, on ? (<glomseg-shortcut-help>).
 * @csspart glomeruli - The table of glomeruli with their Dice status; a row zooms to its glomerulus.
 */
export default class GlomsegViewer extends GlomsegElement {
  static override styles = viewerStyles;
  static override dependencies = {
    'glomseg-overlay': GlomsegOverlay,
    'glomseg-sign-in': GlomsegSignIn,
    'glomseg-map-tools': GlomsegMapTools,
    'glomseg-shortcut-help': GlomsegShortcutHelp,
    'glomseg-glomerulus-table': GlomsegGlomerulusTable,
  };

  @property({ attribute: 'server-url' }) serverUrl = '';
  @property() slide = '';
  @property() model = '';
  @property({ attribute: 'annotations-url' }) annotationsUrl = '';
  /** Headers for every gRPC-Web call (e.g. authorization), or a function that returns them; passed to the overlay. */
  @property({ attribute: false }) headers?: RequestHeaders;

  @state() private slides: SlideEntry[] = [];
  @state() private error?: ErrorEventDetail;
  /** Slide pixel size given in the overlay's Pixel size box (um/px), kept in the link; 0: the slide's own. */
  @state() private mpp = 0;
  /** Said when the link named a slide this server does not have. */
  @state() private linkNotice?: string;
  /** Why the slide cannot be shown: said on the map itself, where the user looks (a white map said nothing). */
  @state() private mapError?: ErrorEventDetail;
  /** The token entered in the sign-in form, used when `headers` is not set, and the form's state. */
  private readonly signInForm = new SignInController(this, () => serverBaseUrl(this.serverUrl));

  @query('[part=map]') private mapElement!: HTMLDivElement;
  @query('[part=cursor]') private cursorElement!: HTMLDivElement;

  private readonly slideMap = new SlideMapController(this);
  /**
   * The page's link as it opened: read before anything can rewrite it (a slide opened from the `slide` attribute
   * writes its own view into the link once drawn, which can happen before the slide list arrives).
   */
  private readonly pageLink = readViewLink();
  /** Outline, heatmap, ruler, snapshot, the glomerulus table and the ? help, with their keys. */
  private readonly tools = new MapToolsController(this, {
    map: () => this.slideMap.map,
    mpp: () => this.slideMap.pixelSize.micrometres ?? this.overlay?.grid?.mppAssumed,
    slideName: () => this.slideMap.slide?.name ?? 'slide',
    focusTable: () => this.renderRoot.querySelector('glomseg-glomerulus-table')?.focusFirstRow(),
  });
  // The overlay's editing keys work from anywhere in the viewer too, and the help lists them.
  protected readonly keys = new KeyboardShortcutsController(this, () => [
    ...this.tools.shortcuts,
    ...(this.overlay?.editor.shortcuts ?? []),
  ]);
  private slideAbort?: AbortController;
  /** The annotations URL belongs to the slide it was given with; another slide opens without it. */
  private annotationsSlide = '';

  /** The OpenLayers map (for portals and tests). */
  get map(): OlMap | undefined {
    return this.slideMap.map;
  }

  /** The overlay inside the viewer. */
  get overlay(): GlomsegOverlay | null {
    return this.renderRoot.querySelector('glomseg-overlay');
  }

  /** The portal's headers, else the signed-in token's. */
  private get authHeaders(): RequestHeaders {
    return this.headers ?? this.signInForm.headers;
  }

  protected override firstUpdated(): void {
    this.slideMap.create(this.mapElement, this.cursorElement);
    this.requestUpdate();
    void this.loadSlideList();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.slideAbort?.abort();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('serverUrl') && changed.get('serverUrl') !== undefined) {
      this.signInForm.read();
      void this.loadSlideList();
    }
    if (changed.has('slide') && this.slideMap.map) void this.openSlide(this.slide);
    if (changed.has('annotationsUrl') && changed.get('annotationsUrl') === undefined)
      this.annotationsSlide = this.slide;
  }

  private async loadSlideList(): Promise<void> {
    try {
      const response = await glomsegClient(this.serverUrl, this.authHeaders).listSlides({});
      this.signInForm.accepted();
      this.slides = response.slides.map(slideSummaryFromProto);
      const link = this.pageLink;
      const linked = link?.slide;
      const known = !!linked && this.slides.some((s) => s.id === linked);
      if (known) {
        this.setMpp(link?.mpp ?? 0);
        this.slide = linked;
      } else if (!this.slide && this.slides.length > 0) this.slide = this.slides[0].id;
      else if (this.slide && !this.slideMap.slide) void this.openSlide(this.slide);
      this.linkNotice =
        linked && !known
          ? `The link names slide "${linked}", which this server does not have${this.slide ? `: showing ${this.slide} instead` : ''}.`
          : undefined;
    } catch (error) {
      this.showError(describeError(error, this.serverUrl));
    }
  }

  private async openSlide(slideId: string): Promise<void> {
    this.slideAbort?.abort();
    const abort = new AbortController();
    this.slideAbort = abort;
    if (!slideId || !this.slideMap.map) return;
    this.error = undefined;
    this.mapError = undefined;
    try {
      const info = await glomsegClient(this.serverUrl, this.authHeaders).getSlideInfo(
        { slideId },
        { signal: abort.signal },
      );
      if (abort.signal.aborted) return;
      this.slideMap.show(slideInfoFromProto(info), serverBaseUrl(this.serverUrl), this.authHeaders);
    } catch (error) {
      if (abort.signal.aborted) return;
      const detail = describeError(error, this.serverUrl);
      // Any failure to open the slide leaves the map empty; a missing token has its own form.
      if (detail.code !== 'UNAUTHENTICATED') this.mapError = detail;
      this.showError(detail);
    }
  }

  /** The overlay found the slide unreadable or unsupported as it predicted: that goes on the map too. */
  private onOverlayError(event: CustomEvent<ErrorEventDetail>): void {
    if (SLIDE_FATAL_CODES.has(event.detail.code)) this.mapError = event.detail;
  }

  /** A slide chosen from the list opens at its own pixel size. */
  private chooseSlide(id: string): void {
    this.linkNotice = undefined;
    this.mapError = undefined;
    this.setMpp(0);
    this.slide = id;
  }

  /** The pixel size given for the open slide: to the overlay, and into the link. */
  private setMpp(mpp: number): void {
    this.mpp = mpp;
    this.slideMap.mpp = mpp;
    this.slideMap.writeLink();
  }

  private showError(error: ErrorEventDetail): void {
    // A server that wants a token: ask for one (unless the portal supplies headers of its own).
    if (error.code === 'UNAUTHENTICATED' && !this.headers) this.signInForm.refused(error.message);
    else this.error = error;
    this.dispatchEvent(glomsegEvent('glomseg-error', error));
  }

  private signIn(token: string): void {
    this.signInForm.enter(token);
    this.error = undefined;
    void this.loadSlideList();
  }

  /** Forgets the token and closes the slide: the sign-in form covers the viewer again. */
  private signOut(): void {
    this.signInForm.forget({ signOut: true });
    this.slides = [];
    this.slide = '';
  }

  protected override render() {
    const slide = this.slideMap.slide;
    const annotationsUrl = this.annotationsSlide && this.annotationsSlide === this.slide ? this.annotationsUrl : '';
    // While a chosen slide opens the overlay has none: the previous slide's annotations go at once, and annotations
    // loaded meanwhile are the new slide's (they were dropped when its info arrived).
    return html`
      <div part="layout">
        <aside part="sidebar">
          <h2>
            glomseg
            ${this.signInForm.token && !this.headers ? html`<button part="sign-out" @click=${this.signOut}>Sign out</button>` : nothing}
          </h2>
          ${slideListTemplate(this.slides, this.slide, (id) => this.chooseSlide(id))}
          ${slideInfoTemplate(this.slideMap)}
          ${this.linkNotice ? html`<div part="link-notice" role="alert">${this.linkNotice}</div>` : nothing}
          ${this.error ? html`<div part="error" role="alert" data-code=${this.error.code}>${this.error.message}</div>` : nothing}
          <glomseg-overlay
            part="overlay"
            .map=${this.slideMap.map}
            .headers=${this.authHeaders}
            server-url=${this.serverUrl}
            slide=${slide?.id === this.slide ? this.slide : ''}
            model=${this.model}
            .mppOverride=${this.mpp}
            annotations-url=${annotationsUrl}
            ?outline=${this.tools.outline}
            ?heatmap=${this.tools.heatmap}
            .heatmapOpacity=${this.tools.heatmapOpacity}
            @glomseg-progress=${() => this.slideMap.assumePixelSize(this.overlay?.grid)}
            @glomseg-panel-input=${(event: GlomsegPanelInputEvent) => event.detail.name === 'mpp' && this.setMpp(event.detail.value)}
            @glomseg-error=${this.onOverlayError}
          ></glomseg-overlay>
          ${glomeruliTemplate(this.tools, slide?.name ?? 'slide')}
        </aside>
        <div part="map-area">
          <div part="map" tabindex="0" aria-label="Slide: drag to pan, wheel or +/- to zoom, arrow keys to pan"></div>
          <div part="cursor"></div>
          ${mapErrorTemplate(this.mapError)} ${mapToolsTemplate(this.tools, this.overlay?.editor.shortcuts)}
        </div>
      </div>
      ${signInTemplate(serverBaseUrl(this.serverUrl), this.signInForm.message, (token) => this.signIn(token))}
    `;
  }
}
