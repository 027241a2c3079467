/**
 * Draining, for rolling updates: on shutdown the server first reports NOT_SERVING to health checks (so Kubernetes
 * takes the pod out of the Service), refuses new glomseg calls with UNAVAILABLE (clients retry them on another
 * server), and lets the calls it has finish for a grace period. Calls still running then end with UNAVAILABLE
 * as well, never with a broken connection, so a client knows to retry and nothing is half-written.
 */
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';

/** The calls we serve: unary and server-streaming (connect-on-grpc-js.ts serves no other kind). */
type Call = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;
type Handler = (call: Call, callback?: (error: unknown, value?: unknown) => void) => unknown;

interface ActiveCall {
  /** Ends the call now with UNAVAILABLE. */
  cancel(): void;
}

const SHUTTING_DOWN = 'the server is shutting down; retry on another server';

function unavailable(details: string): Partial<grpc.ServiceError> {
  return { code: status.UNAVAILABLE, details, message: details };
}

export class CallDrainer {
  private draining = false;
  private readonly active = new Set<ActiveCall>();
  private idle?: () => void;

  get isDraining(): boolean {
    return this.draining;
  }

  get activeCalls(): number {
    return this.active.size;
  }

  /** The same handlers, refused while draining and tracked until they end. */
  wrap(handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
    const wrapped: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(handlers)) {
      wrapped[name] = ((call: Call, callback?: (error: unknown, value?: unknown) => void) =>
        callback ? this.unary(handler as Handler, call, callback) : this.stream(handler as Handler, call)) as never;
    }
    return wrapped;
  }

  /**
   * Stops taking calls and waits up to `graceMs` for the running ones; the rest end with UNAVAILABLE.
   * Returns how many finished in time and how many were cancelled.
   */
  async drain(graceMs: number): Promise<{ finished: number; cancelled: number }> {
    this.draining = true;
    const before = this.active.size;
    if (before > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.idle = undefined;
    const cancelled = this.active.size;
    for (const call of [...this.active]) call.cancel();
    return { finished: before - cancelled, cancelled };
  }

  private track(call: ActiveCall): () => void {
    this.active.add(call);
    return () => {
      this.active.delete(call);
      if (this.active.size === 0) this.idle?.();
    };
  }

  private unary(handler: Handler, call: Call, callback: (error: unknown, value?: unknown) => void): void {
    if (this.draining) return callback(unavailable(SHUTTING_DOWN));
    let done = false;
    const finish = (error: unknown, value?: unknown) => {
      if (done) return;
      done = true;
      untrack();
      callback(error, value);
    };
    const untrack = this.track({
      cancel: () => finish(unavailable(`${SHUTTING_DOWN} (the call did not finish within the grace period)`)),
    });
    call.on?.('cancelled', () => {
      done = true;
      untrack();
    });
    handler(call, finish);
  }

  private stream(handler: Handler, call: Call): void {
    if (this.draining) {
      call.emit('error', unavailable(SHUTTING_DOWN));
      return;
    }
    const untrack = this.track({
      cancel: () => {
        call.emit('error', unavailable(`${SHUTTING_DOWN} (the stream did not finish within the grace period)`));
        // The handler hears 'cancelled' and stops its work.
        call.emit('cancelled');
      },
    });
    Promise.resolve(handler(call)).finally(untrack);
  }
}
