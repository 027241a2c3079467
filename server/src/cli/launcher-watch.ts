/**
 * npm runs every command (`npx glomseg`, `npm exec`, `npm start`, `npm run glomseg`) in a shell, and passes SIGTERM and
 * SIGINT only to that shell, which dies of them without passing them on (npm/cli#5776): this process would go on
 * serving as an orphan. So, when npm started us, the process that started us going away counts as the SIGTERM it got.
 */
export function stopWhenLauncherGoes(
  options: { env?: NodeJS.ProcessEnv; intervalMs?: number; onGone?: () => void } = {},
): () => void {
  const env = options.env ?? process.env;
  if (env.npm_lifecycle_event === undefined) return () => {};
  const launcher = process.ppid;
  const onGone = options.onGone ?? (() => process.kill(process.pid, 'SIGTERM'));
  // No event says that a parent died (prctl's PDEATHSIG is not reachable from Node); reading getppid() is cheap.
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    onGone();
  }, options.intervalMs ?? 250);
  timer.unref();
  return () => clearInterval(timer);
}
