/** What <glomseg-overlay> hands its panel: its own state plus what the prediction session has received so far. */
import { tileBounds } from '@glomseg/shared/tile-grid.js';
import type { PanelState } from '../panel/glomseg-panel.state.js';
import type { PredictionSession } from '../../layers/prediction-layer.js';

export type OverlayState = Omit<PanelState, 'grid' | 'slideSize' | 'polygons' | 'areaPredicted' | 'tissuePredicted'> & {
  session?: PredictionSession;
};

export function panelStateOf({ session, ...state }: OverlayState): PanelState {
  let areaPredicted = 0;
  let tissuePredicted = 0;
  if (session) {
    for (const key of session.controller.received) {
      const [col, row] = key.split(',').map(Number);
      const bounds = tileBounds(session.model.grid, { col, row });
      areaPredicted += bounds.width * bounds.height;
      tissuePredicted += session.tissue.get(key) ?? 0;
    }
  }
  return {
    ...state,
    // Unset (0) is sent as unset, and the server cuts at the card's threshold: the panel shows that one, once known.
    threshold: state.threshold || session?.model.card.threshold,
    grid: session?.model.grid,
    slideSize: session ? { width: session.slide.width, height: session.slide.height } : undefined,
    polygons: session && session.store.size > 0 ? session.store.polygons() : [],
    areaPredicted,
    tissuePredicted,
  };
}
