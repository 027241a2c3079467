/** An inference worker's start (its session opened, or every candidate's failure explained) and its orderly close. */
import { Worker } from 'node:worker_threads';
import { cancelledError, GlomsegError } from '@glomseg/shared/errors.js';
import { explainSessionFailure, type DeviceChoice, type InferenceDevice } from './execution-providers.js';
import type {
  CloseRequest,
  SessionCandidate,
  SessionFailure,
  WorkerInit,
  WorkerMessage,
} from './inference-protocol.js';

const WORKER_URL = new URL('./inference-worker-bootstrap.js', import.meta.url);

export interface StartedWorker {
  worker: Worker;
  chosen?: SessionCandidate;
  failures: SessionFailure[];
}

/** Starts a worker and waits until its session is open (or every candidate failed, and the worker is gone). */
export function startWorker(init: WorkerInit, signal?: AbortSignal): Promise<StartedWorker> {
  if (signal?.aborted) return Promise.reject(cancelledError(signal));
  const worker = new Worker(WORKER_URL, { workerData: init, execArgv: process.execArgv });
  return new Promise<StartedWorker>((resolve, reject) => {
    let lastError: Error | undefined;
    const done = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
    };
    const onMessage = (message: WorkerMessage): void => {
      if (message.type === 'ready') {
        done();
        resolve({ worker, chosen: message.chosen, failures: message.failures.map(explained) });
      } else if (message.type === 'init-failed') {
        done();
        void worker.terminate().then(() => resolve({ worker, failures: message.failures.map(explained) }));
      }
    };
    const onError = (error: Error): void => {
      lastError = error;
    };
    const onExit = (code: number): void => {
      done();
      reject(
        new GlomsegError(
          'INTERNAL',
          `the inference worker stopped while starting (${lastError?.message ?? `exit code ${code}`})`,
          { cause: lastError },
        ),
      );
    };
    const onAbort = (): void => {
      done();
      void worker.terminate();
      reject(cancelledError(signal));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The worker reports ONNX Runtime's words; the provider that failed says what they mean (here, where it is registered). */
function explained(failure: SessionFailure): SessionFailure {
  return failure.modelFault ? failure : { ...failure, reason: explainSessionFailure(failure.device, failure.reason) };
}

export function sessionError(
  modelPath: string,
  choice: DeviceChoice | InferenceDevice,
  failures: SessionFailure[],
): GlomsegError {
  const modelFault = failures.find((f) => f.modelFault);
  if (modelFault) {
    return new GlomsegError('FAILED_PRECONDITION', `cannot load the model ${modelPath}: ${modelFault.reason}`);
  }
  const reasons = failures.map((f) => f.reason).join('; ') || 'no execution provider to try';
  return new GlomsegError(
    'FAILED_PRECONDITION',
    choice === 'auto' ? `no execution provider could run the model ${modelPath}: ${reasons}` : reasons,
  );
}

/** How long a closing worker may take to finish its run before it is terminated regardless. */
const CLOSE_GRACE_MS = 15_000;

/** Asks a worker to finish its run and exit (terminating it mid-run can abort the process); terminates it late. */
export function closeWorker(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => void worker.terminate().then(() => resolve()), CLOSE_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage({ type: 'close' } satisfies CloseRequest);
  });
}
