import { Worker } from 'node:worker_threads';
import { test, expect } from 'vitest';
test('boot', async () => {
  console.log('execArgv', process.execArgv);
  const w = new Worker(new URL('./boot.js', import.meta.url), { execArgv: process.execArgv });
  const m = await new Promise((res, rej) => { w.on('message', res); w.on('error', rej); });
  expect(m).toEqual({ ok: 'INTERNAL', x: 3 });
  await w.terminate();
});
