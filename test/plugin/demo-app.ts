/** The app the browser tests open: the eval region's slides, the real model, and the demo slide with its ground truth. */
import { GlomsegApp } from '../../server/src/app.js';
import { ModelRegistry } from '../../server/src/inference/model-registry.js';
import { EVAL_REGION, KIDNEY_REGION_GEOJSON, MODELS } from '../helpers/paths.js';

export const DEMO_SLIDE = 'kidney-region.tif';

export async function startDemoApp(): Promise<GlomsegApp> {
  // ScoreSlide on the viewer's own tile grid, so that the CLI's figures equal the viewer's live Dice exactly; on its
  // default larger windows (the card's scoreTileSize) they agree within the seam tolerance (score-windows.test.ts).
  const { card } = (await ModelRegistry.load({ folder: MODELS })).defaultModel();
  return GlomsegApp.start({
    scoreTileSize: card.tileSize,
    slideFolders: [EVAL_REGION],
    modelFolder: MODELS,
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    device: 'cpu',
    demo: { slideId: DEMO_SLIDE, annotationsPath: KIDNEY_REGION_GEOJSON },
  });
}
