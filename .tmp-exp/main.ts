import { Worker } from 'node:worker_threads';
console.log('execArgv', process.execArgv);
for (const file of ['./w.ts', './boot.js']) {
  const w = new Worker(new URL(file, import.meta.url), { execArgv: process.execArgv });
  await new Promise<void>((res) => { w.on('message', (m) => { console.log(file, 'msg', m); res(); }); w.on('error', (e) => { console.log(file, 'err', e.message); res(); }); });
  await w.terminate();
}
