/**
 * One GET (or HEAD) through the shared dispatcher, following redirects ourselves (upstreams
 * send file downloads to a CDN) so the caller learns the final URL and keeps its Range headers.
 */
import type { Dispatcher } from 'undici';
import { NetworkError } from '../errors.js';

export interface SendOptions {
  dispatcher: Dispatcher;
  /** GET unless told (HEAD to learn a size). */
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  signal?: AbortSignal;
  maxRedirects?: number;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered, after redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function sendRequest(url: string, opts: SendOptions): Promise<Response> {
  const maxRedirects = opts.maxRedirects ?? 5;
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await opts.dispatcher.request({
      origin: current.origin,
      path: current.pathname + current.search,
      method: opts.method ?? 'GET',
      headers: opts.headers ?? {},
      signal: opts.signal ?? null,
    });
    const location = header(res.headers, 'location');
    if (!REDIRECTS.has(res.statusCode) || location === undefined) {
      return { status: res.statusCode, headers: res.headers, body: res.body, url: current.href };
    }
    // Drained, not destroyed, so the keep-alive socket goes back to the pool.
    await res.body.dump();
    if (hop >= maxRedirects) {
      throw new NetworkError(`${url}: more than ${maxRedirects} redirects`, {
        url,
        code: 'EREDIRECTS',
        hint: 'the upstream redirects in a loop: check the upstream URL in the config',
      });
    }
    const next = new URL(location, current);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new NetworkError(`${current.href} redirects to unsupported ${next.protocol} URL`, {
        url,
        code: 'EREDIRECTS',
        hint: 'the upstream redirects outside HTTP: check the upstream URL in the config',
      });
    }
    current = next;
  }
}

/**
 * Closes a body we will not read. undici then emits an abort error on it, which is expected
 * here, so it gets a listener instead of becoming an uncaught exception.
 */
export function discardBody(body: Response['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** A response header as one string (the first value when repeated). */
export function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// "bytes 100-199/200" gives start 100 and total 200; "bytes */200" (a 416) only the total.
export function parseContentRange(
  value: string | undefined,
): { start?: number; total?: number } | undefined {
  const match =
    value === undefined ? null : /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(value.trim());
  if (!match) return undefined;
  return {
    ...(match[1] === undefined ? {} : { start: Number(match[1]) }),
    ...(match[2] === '*' || match[2] === undefined ? {} : { total: Number(match[2]) }),
  };
}
