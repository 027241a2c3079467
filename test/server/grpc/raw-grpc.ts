/**
 * A raw gRPC call over node:http2, for bytes no gRPC library would send: the test writes the frames itself
 * (flag byte, 4-byte length, message) and reads the status from the response headers or trailers.
 */
import http2 from 'node:http2';

export interface RawCall {
  path: string;
  /** Extra request headers (grpc-encoding, grpc-timeout, ...). */
  headers?: Record<string, string>;
  /** The request body exactly as sent. */
  body: Uint8Array;
}

export interface RawStatus {
  status: string;
  message: string;
  /** RST_STREAM code when the server reset the stream instead of sending a status. */
  rstCode: number;
}

/** One length-prefixed gRPC message: `flag` 1 marks it compressed. */
export function frame(message: Uint8Array, flag = 0): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

export function rawGrpcCall(address: string, call: RawCall): Promise<RawStatus> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': call.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...call.headers,
    });
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (trailers) => (headers = { ...headers, ...trailers }));
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      session.close();
      resolve({
        status: String(headers['grpc-status']),
        message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
        rstCode: stream.rstCode ?? 0,
      });
    });
    stream.end(call.body);
  });
}
