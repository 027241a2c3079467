import { parentPort } from 'node:worker_threads';
import { GlomsegError } from '@glomseg/shared/errors.js';
const x: number = 3;
parentPort!.postMessage({ ok: new GlomsegError('INTERNAL', 'hi').code, x });
