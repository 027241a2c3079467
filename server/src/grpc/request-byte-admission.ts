/**
 * The request byte budget (validation/request-byte-budget.ts) on the gRPC port. grpc-js buffers a whole request
 * message before any interceptor or handler sees it, so the budget is taken earlier, from the HTTP/2 stream that
 * grpc-js's own call owns: at the message's 5-byte length prefix, before the rest of its body is read. A request
 * that does not fit is ended with RESOURCE_EXHAUSTED there (grpc-js drops the rest of its bytes); one that fits
 * holds its bytes until its stream closes, whatever way the call ends. Health and reflection are not charged.
 *
 * It must be placed before grpc-js-edge's interceptor and hands grpc-js's call on unwrapped, so that one still
 * gets it too.
 */
import type http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { toConnectError } from '@glomseg/api/error-codes.js';
import { Glomseg } from '@glomseg/api/gen/glomseg/v1/glomseg_pb.js';
import { isGlomsegError } from '@glomseg/shared/errors.js';
import { chargedBytes, MESSAGE_PREFIX_BYTES, type RequestByteBudget } from '../validation/request-byte-budget.js';

export interface RequestByteAdmissionOptions {
  budget: RequestByteBudget;
  /** The message limit: what a compressed message is charged. */
  maxMessageBytes: number;
  log?: (message: string) => void;
}

/** What this reads of grpc-js's base call (server-interceptors.ts, BaseServerInterceptingCall). */
interface BaseCall extends grpc.ServerInterceptingCallInterface {
  stream?: http2.ServerHttp2Stream;
}

const CHARGED_PREFIX = `/${Glomseg.typeName}/`;

/** grpc-js's own call, handed on as it came (grpc-js chains whatever each interceptor returns). */
const unwrapped = (call: grpc.ServerInterceptingCallInterface) => call as grpc.ServerInterceptingCall;

export function requestByteAdmission(options: RequestByteAdmissionOptions): grpc.ServerInterceptor {
  let warned = false;
  return (method, call) => {
    if (!method.path.startsWith(CHARGED_PREFIX)) return unwrapped(call);
    const stream = (call as BaseCall).stream;
    if (!stream || typeof stream.on !== 'function') {
      if (!warned)
        options.log?.(
          'request byte budget: not the first interceptor, or grpc-js changed; gRPC requests are not charged',
        );
      warned = true;
      return unwrapped(call);
    }
    const what = method.path.slice(CHARGED_PREFIX.length);
    let head = Buffer.alloc(0);
    let decided = false;
    let release = () => {};
    const onData = (chunk: Buffer) => {
      // A call already answered (refused by the token check, say) only has its bytes dropped: nothing to charge.
      if (decided || stream.headersSent) return;
      head = Buffer.concat([head, chunk.subarray(0, MESSAGE_PREFIX_BYTES - head.length)]);
      if (head.length < MESSAGE_PREFIX_BYTES) return;
      decided = true;
      stream.off('data', onData);
      try {
        release = options.budget.take(chargedBytes(head, options.maxMessageBytes), what).release;
      } catch (error) {
        if (!isGlomsegError(error)) throw error;
        const status = toConnectError(error);
        call.sendStatus({ code: status.code as number as grpc.status, details: status.rawMessage });
      }
    };
    // Heard after grpc-js's own listener, which was added first; the stream stays paused until grpc-js reads.
    stream.on('data', onData);
    stream.once('close', () => {
      stream.off('data', onData);
      release();
    });
    return unwrapped(call);
  };
}
