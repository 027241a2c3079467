/** The overlay's corrections controller, wired to its slide, server and headers. */
import type { PredictionLayer } from '../../layers/prediction-layer.js';
import type { RequestHeaders } from '../../glomseg-client.js';
import { glomsegClient } from '../../glomseg-client.js';
import { EditingController } from '../../controllers/editing-controller.js';
import type { ReactiveControllerHost } from 'lit';

interface OverlaySettings {
  slide: string;
  serverUrl: string;
  headers?: RequestHeaders;
}

export function editingController(
  host: ReactiveControllerHost & HTMLElement & OverlaySettings,
  predictions: PredictionLayer,
): EditingController {
  return new EditingController(host, {
    predictions,
    slide: () => host.slide,
    serverUrl: () => host.serverUrl,
    client: () => glomsegClient(host.serverUrl, host.headers),
  });
}
