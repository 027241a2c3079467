/** What <glomseg-overlay> hands its panel: the threshold in use is the request's, else the model card's, as on the server. */
import { describe, expect, it } from 'vitest';
import { panelStateOf, type OverlayState } from '../../../../plugin/src/components/overlay/panel-state.js';

const overlay = {
  progress: { received: 0, total: 0, streaming: false, limited: false, polygons: 0 },
  loading: false,
  hasSlide: true,
  threshold: 0,
  opacity: 0.5,
  visible: true,
  annotationsVisible: true,
} as unknown as OverlayState;

/** A session whose model card cuts at `threshold`, with nothing received yet. */
function sessionWithCard(threshold: number): OverlayState['session'] {
  return {
    model: { card: { threshold }, grid: undefined },
    slide: { width: 512, height: 512 },
    controller: { received: new Set<string>() },
    tissue: new Map(),
    store: { size: 0 },
  } as unknown as OverlayState['session'];
}

describe('the threshold the panel shows', () => {
  it("is the card's when none is set: no number of the plugin's own, before or after the card is known", () => {
    // Unset (0) goes to the server as unset, which cuts at the card's threshold: until the card is here, none is known.
    expect(panelStateOf(overlay).threshold).toBeUndefined();
    expect(panelStateOf({ ...overlay, session: sessionWithCard(0.35) }).threshold).toBe(0.35);
  });

  it('is the one set when set', () => {
    expect(panelStateOf({ ...overlay, threshold: 0.6 }).threshold).toBe(0.6);
    expect(panelStateOf({ ...overlay, threshold: 0.6, session: sessionWithCard(0.35) }).threshold).toBe(0.6);
  });
});
