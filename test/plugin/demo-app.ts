/** The app the browser tests open: the eval region's slides, the real model, and the demo slide with its ground truth. */
import { GlomsegApp } from '../../server/src/app.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, MODELS } from '../helpers/paths.js';

export const DEMO_SLIDE = 'kidney-region.tif';

export async function startDemoApp(): Promise<GlomsegApp> {
  // The server as `npm start` runs it: ScoreSlide on the card's larger windows (a CLI that wants the viewer's figures
  // exactly asks for the viewer's grid, `score --viewer-grid`).
  return GlomsegApp.start({
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
    demo: { slideId: DEMO_SLIDE, annotationsPath: KIDNEY_REGION_GEOJSON },
  });
}
