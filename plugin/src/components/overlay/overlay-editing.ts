/** The overlay's corrections controller, wired to its slide, server and headers. */
import type { PredictionLayer } from '../../layers/prediction-layer.js';
import type { RequestHeaders } from '../../glomseg-client.js';
import { glomsegClient } from '../../glomseg-client.js';
import { EditingController } from '../../controllers/editing-controller.js';
import type { ReactiveControllerHost } from 'lit';
import { AdaptController } from '../../controllers/adapt-controller.js';

interface OverlaySettings {
  slide: string;
  model: string;
  serverUrl: string;
  headers?: RequestHeaders;
}

type Host = ReactiveControllerHost & HTMLElement & OverlaySettings;

/** Corrections, and adapting the model to them with its picker. */
export function editingController(
  host: Host,
  predictions: PredictionLayer,
): EditingController & { adapter: AdaptController } {
  const client = () => glomsegClient(host.serverUrl, host.headers);
  const editor = new EditingController(host, {
    predictions,
    slide: () => host.slide,
    serverUrl: () => host.serverUrl,
    client,
  });
  const pickModel = (id: string) => (host.model = id);
  const adapter = new AdaptController(host, {
    slide: () => host.slide,
    model: () => host.model,
    pickModel,
    shown: () => editor.active,
    client,
    serverUrl: () => host.serverUrl,
  });
  return Object.assign(editor, { adapter });
}
