/**
 * One real GlomsegApp for a test file, with a glomseg client and a health client of it: started in a beforeAll,
 * closed in an afterAll. Read its fields inside tests and hooks (they are set once the beforeAll has run).
 */
import { afterAll, beforeAll } from 'vitest';
import { GlomsegApp, type GlomsegAppOptions } from '../../server/src/app.js';
import { glomsegClient, healthClient, type GlomsegTestClient, type HealthTestClient } from './grpc.js';
import { EVAL_REGION, MODELS } from './paths.js';

export interface GrpcApp {
  readonly app: GlomsegApp;
  readonly client: GlomsegTestClient;
  readonly health: HealthTestClient;
}

/** The eval region and the shipped model on the CPU, gRPC only: what most server tests serve. */
export const EVAL_REGION_APP: GlomsegAppOptions = {
  slideFolders: [EVAL_REGION],
  modelFolder: MODELS,
  httpPort: false,
  device: 'cpu',
};

/**
 * Starts the app before the file's (or describe block's) tests with EVAL_REGION_APP overridden by `options`, or by
 * what `options()` resolves to: a function for options that need setting up first (slides written to a folder).
 */
export function useGrpcApp(
  options: Partial<GlomsegAppOptions> | (() => Promise<Partial<GlomsegAppOptions>>) = {},
): GrpcApp {
  const served: { app?: GlomsegApp; client?: GlomsegTestClient; health?: HealthTestClient } = {};
  beforeAll(async () => {
    const overrides = typeof options === 'function' ? await options() : options;
    const app = await GlomsegApp.start({ ...EVAL_REGION_APP, ...overrides });
    served.app = app;
    served.client = glomsegClient(app.grpcAddress);
    served.health = healthClient(app.grpcAddress);
  });
  afterAll(async () => {
    served.client?.close();
    served.health?.close();
    await served.app?.close();
  });
  return served as GrpcApp;
}
