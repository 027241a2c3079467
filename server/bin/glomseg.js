#!/usr/bin/env node
// Runs the TypeScript CLI in this process, so `npx glomseg` and `npm link` work without a build step. tsx is
// registered here (as `node --import tsx` would; found beside this file, whatever the working folder) instead of in a
// child process: signals then reach the server itself, with no process between that could die and leave it serving.
import 'tsx';

const { main } = await import('../src/cli/main.ts');
await main(process.argv);
