/**
 * How a running score stops: Ctrl-C, SIGTERM (a Job's pod stopped; npm's shell gone, launcher-watch.ts) or SIGHUP.
 * The first one is said (by `onStop`) and aborts `signal`, so what is in flight is cancelled and the server closes in
 * order (ending the process inside a model run would abort it); the caller then exits 128 + the signal as shells
 * expect. A second Ctrl-C does not wait; any other signal after the first (a launcher passing one on) changes nothing.
 */
import { plural } from '@glomseg/shared/plural.js';

/** The signals that stop a running score, in order. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopWatch {
  /** Aborted by the first stop signal. */
  readonly signal: AbortSignal;
  /** The first stop signal received, if any. */
  stoppedBy(): NodeJS.Signals | undefined;
  /** Stops listening. */
  close(): void;
}

/** Listens for the stop signals until close(); `onStop(how)` runs once, before `signal` aborts. */
export function watchStopSignals(onStop: (how: string) => void): StopWatch {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      if (signal === 'SIGINT' && stoppedBy === 'SIGINT') process.exit(130);
      return;
    }
    stoppedBy = signal;
    const how = signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : `stopped (${signal})`;
    onStop(how);
    controller.abort(new Error(how));
  };
  const listeners = STOP_SIGNALS.map((signal) => [signal, () => stop(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return {
    signal: controller.signal,
    stoppedBy: () => stoppedBy,
    close: () => {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
}

/** What a stopped score says on stderr: how it stopped, how far it got, and what is kept. */
export function stoppedMessage(how: string, finished: number, total: number, batchOut: string | undefined): string {
  const kept = batchOut
    ? `; the ${finished} finished are kept in ${batchOut} and a rerun resumes`
    : '; nothing was written';
  return `\nglomseg: ${how} after ${finished} of ${plural(total, 'slide')}${kept}\n`;
}
