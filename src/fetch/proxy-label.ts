/**
 * Which proxy a request went through, and whether a failure was the proxy's own: a dead
 * proxy, a proxy that refused a CONNECT tunnel, or an error page the proxy wrote itself must
 * not read as "the upstream refused access". The dispatcher records its proxy setting here;
 * the fetch functions ask for the proxy of a URL when they turn a failure into an error.
 */
import type { Dispatcher } from 'undici';
import { redactUrl } from '../errors.js';
import { header, type Response } from './request.js';

interface ProxySetting {
  /** `--proxy`; else the environment decides per URL, as the dispatcher does. */
  explicit?: string | undefined;
}

const settings = new WeakMap<Dispatcher, ProxySetting>();

export function rememberProxy(dispatcher: Dispatcher, explicit: string | undefined): void {
  settings.set(dispatcher, { explicit });
}

/** The proxy a request for `url` goes through (credentials redacted), or undefined. */
export function proxyFor(dispatcher: Dispatcher, url: string): string | undefined {
  const setting = settings.get(dispatcher);
  if (setting === undefined) return undefined;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const env = process.env;
  const fromEnv =
    target.protocol === 'https:'
      ? (env.https_proxy ?? env.HTTPS_PROXY ?? env.http_proxy ?? env.HTTP_PROXY)
      : (env.http_proxy ?? env.HTTP_PROXY);
  const proxy = setting.explicit || fromEnv;
  if (!proxy || bypassed(target, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  return redactUrl(proxy.replace(/\/+$/, ''));
}

/** NO_PROXY as undici's EnvHttpProxyAgent reads it: host suffixes, optional ports, `*`. */
function bypassed(target: URL, noProxy: string): boolean {
  const host = target.hostname.toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    const name = m[1]!.replace(/^\*?\./, '');
    if (m[2] !== undefined && m[2] !== port) continue;
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/**
 * A response the proxy wrote itself rather than forwarded: RFC 9110 has a proxy add `Via` to
 * what it forwards (tinyproxy and Squid do), so an error without one came from the proxy.
 * Only error statuses a proxy gives of its own accord are labelled, so an upstream 404 behind
 * a proxy that strips Via is never blamed on the proxy.
 */
export function answeredByProxy(res: Response, proxy: string | undefined): boolean {
  if (proxy === undefined) return false;
  if (res.status === 407) return true;
  if (![403, 500, 502, 503, 504].includes(res.status)) return false;
  return header(res.headers, 'via') === undefined;
}

/** What a connection-level failure says when it happened at the proxy, or undefined. */
export function proxyFailure(error: unknown, proxy: string | undefined): string | undefined {
  if (proxy === undefined) return undefined;
  const e = error as { code?: unknown; message?: unknown; address?: unknown; port?: unknown };
  const message = typeof e?.message === 'string' ? e.message : '';
  const tunnel = /Proxy response \((\d+)\) !== 200 when HTTP Tunneling/.exec(message);
  if (tunnel)
    return `the proxy ${proxy} refused to open a tunnel (CONNECT answered HTTP ${tunnel[1]})`;
  // Through a proxy every connection is made to the proxy (a tunnel's too): a refused or
  // unresolvable connection is the proxy's. A refused upstream comes back as the proxy's 5xx.
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code === 'ECONNREFUSED')
    return `the proxy ${proxy} refused the connection (nothing listens there)`;
  let host = '';
  try {
    host = new URL(proxy).hostname;
  } catch {
    return undefined;
  }
  if ((code === 'ENOTFOUND' || code === 'EAI_AGAIN') && message.includes(host))
    return `the proxy ${proxy} cannot be found (${code})`;
  if (code !== 'UND_ERR_CONNECT_TIMEOUT') return undefined;
  return `the proxy ${proxy} did not accept the connection in time (${code})`;
}
