/**
 * A real HTTP proxy on loopback in front of an S3-compatible server that misbehaves the way
 * object stores do under load: it answers some requests 503 SlowDown (with S3's XML error
 * body) and cuts the connection of others before answering, and passes the rest through.
 * The SDK under test talks HTTP to it exactly as to a store; nothing of the SDK is mocked.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'slowdown' | 'internal' | 'reset' | 'pass';

export interface FaultProxy {
  endpoint: string;
  /** Requests seen, and how many of each fault were served. */
  counts: Record<Fault, number> & { requests: number };
  close(): Promise<void>;
}

/** `decide(n, req)` picks the fault for the n-th request (1-based). */
export async function startFaultProxy(
  target: string,
  decide: (n: number, req: IncomingMessage) => Fault,
): Promise<FaultProxy> {
  const upstream = new URL(target);
  const counts = { requests: 0, slowdown: 0, internal: 0, reset: 0, pass: 0 };
  const server = createServer((req, res) => {
    const fault = decide(++counts.requests, req);
    counts[fault]++;
    if (fault === 'pass') return forward(req, res, upstream);
    // Read the whole request first, as a store does: the client then sees the answer, not EPIPE.
    req.resume();
    req.once('end', () => {
      if (fault === 'reset') return void req.socket.destroy();
      const [status, code] = fault === 'slowdown' ? [503, 'SlowDown'] : [500, 'InternalError'];
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>fault-${counts.requests}</RequestId></Error>`;
      res.writeHead(status, {
        'Content-Type': 'application/xml',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: URL): void {
  const out = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      // The Host header is part of the SigV4 signature: pass it on unchanged.
      headers: req.headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => res.destroy());
  req.pipe(out);
}
