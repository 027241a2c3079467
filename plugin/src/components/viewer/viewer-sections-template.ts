/** The viewer's sections that show what they are given: the slide list, the open slide's facts, the map's error, sign-in. */
import { html, nothing } from 'lit';
import type { ErrorEventDetail } from '../../events.js';
import type { SlideMapController } from '../../controllers/slide-map-controller.js';

export interface SlideEntry {
  id: string;
  name: string;
  fileSize: number;
}

/** Every slide on the server, the open one marked; a click chooses one. */
export function slideListTemplate(slides: readonly SlideEntry[], current: string, choose: (id: string) => void) {
  return html`<section>
    <h3>Slides</h3>
    <ul part="slide-list">
      ${slides.map(
        (s) =>
          html`<li>
            <button aria-current=${String(s.id === current)} title=${s.id} @click=${() => choose(s.id)}>
              ${s.name} <span class="muted">${(s.fileSize / 1e6).toFixed(1)} MB</span>
            </button>
          </li>`,
      )}
    </ul>
  </section>`;
}

/** Size, levels, format and pixel size of the slide the map shows (the one assumed, and why, where the file has none). */
export function slideInfoTemplate(slideMap: SlideMapController) {
  const slide = slideMap.slide;
  if (!slide) return nothing;
  return html`<section part="slide-info">
    <h3>${slide.name}</h3>
    ${slide.width} × ${slide.height} px · ${slide.levels.length} levels · ${slide.format}, ${slide.compression}<br />
    ${pixelSizeTemplate(slideMap)}
  </section>`;
}

/** The file's pixel size, else the one assumed and why, on one line (a test and a reader take its text whole). */
function pixelSizeTemplate({ slide, pixelSize, pixelSizeAssumed, scaleSource }: SlideMapController) {
  if (slide?.mppX) return html`${slide.mppX.toFixed(3)} µm/px`;
  if (!pixelSizeAssumed) return html`<span class="muted">pixel size not in the file</span>`;
  const micrometres = pixelSize.micrometres?.toFixed(3);
  return html`${micrometres} µm/px <span class="muted" data-scale-source>(${scaleSource})</span>`;
}

/** Over the map: why the slide cannot be shown. */
export function mapErrorTemplate(error: ErrorEventDetail | undefined) {
  if (!error) return nothing;
  return html`<div part="map-error" role="alert" data-code=${error.code}>
    <strong>This slide cannot be shown</strong><br />${error.message}
  </div>`;
}

/** The sign-in form over the viewer, while the server wants a token (message: '' or why the last one was refused). */
export function signInTemplate(server: string, message: string | undefined, signIn: (token: string) => void) {
  if (message === undefined) return nothing;
  return html`<div part="sign-in-backdrop">
    <glomseg-sign-in
      part="sign-in"
      server=${server}
      message=${message}
      @glomseg-sign-in=${(event: CustomEvent<{ token: string }>) => signIn(event.detail.token)}
    ></glomseg-sign-in>
  </div>`;
}
