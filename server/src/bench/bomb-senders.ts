/**
 * One gzip bomb (a small compressed request frame that inflates to a gigabyte) sent to each port by hand, the way a
 * hostile client would: raw HTTP/2 to the gRPC port, fetch to gRPC-Web. Each answers the status the server gave.
 */
import http2 from 'node:http2';

export function rawGrpcBomb(address: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', () => resolve('connection error'));
    const stream = session.request({
      ':method': 'POST',
      ':path': '/glomseg.v1.Glomseg/ScoreSlide',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
    });
    let status = '?';
    stream.on('trailers', (t) => (status = String(t['grpc-status'])));
    stream.on('response', (h) => (status = String(h['grpc-status'] ?? status)));
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      session.close();
      resolve(`grpc-status ${status}`);
    });
    stream.end(body);
  });
}

export async function grpcWebBomb(httpUrl: string, body: Buffer): Promise<string> {
  const response = await fetch(`${httpUrl}/glomseg.v1.Glomseg/ScoreSlide`, {
    method: 'POST',
    headers: { 'content-type': 'application/grpc-web+proto', 'x-grpc-web': '1', 'grpc-encoding': 'gzip' },
    body: new Uint8Array(body),
  });
  const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
  return `grpc-status ${response.headers.get('grpc-status') ?? /grpc-status:\s*(\d+)/.exec(text)?.[1]}`;
}
