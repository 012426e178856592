/**
 * The one undici dispatcher every request of a run goes through: it carries the connection
 * policy (proxy, NO_PROXY, extra CAs, keep-alive, timeouts) so call sites stay plain. undici's
 * own retries are never enabled here: src/fetch/retry.ts is the only retry policy.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici';
import { UsageError } from '../errors.js';
import { rememberProxy } from './proxy-label.js';

export interface DispatcherOptions {
  /** `--proxy` / `proxy:`; credentials as `http://user:pass@host:port`. Else the environment. */
  proxy?: string;
  /** PEM file with extra CA certificates (`--ca-file`), trusted besides the system ones. */
  caFile?: string;
  /** Most sockets per origin; the pool's concurrency bounds it anyway. */
  connections?: number;
  connectTimeoutMs?: number;
  /** From request sent to response headers. */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks: a stalled transfer fails and resumes. */
  bodyTimeoutMs?: number;
}

const PROXY_ENV = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

export function createDispatcher(opts: DispatcherOptions = {}): Dispatcher {
  if (opts.proxy !== undefined && opts.proxy !== '') {
    validateProxyUrl(opts.proxy, '--proxy (or proxy: in the config)');
  } else {
    for (const name of PROXY_ENV) {
      const value = process.env[name];
      if (value) validateProxyUrl(value, `the ${name} environment variable`);
    }
  }
  const ca = opts.caFile === undefined ? undefined : [...rootCertificates, readCaFile(opts.caFile)];
  const connectTimeout = opts.connectTimeoutMs ?? 30_000;
  const poolOptions: Pool.Options = {
    connections: opts.connections ?? null,
    connectTimeout,
    headersTimeout: opts.headersTimeoutMs ?? 60_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 60_000,
    keepAliveTimeout: 30_000,
  };
  const tls = ca === undefined ? {} : { ca };
  const proxy = opts.proxy ? opts.proxy : undefined;
  // EnvHttpProxyAgent reads NO_PROXY even when the proxy is given explicitly, as curl does with
  // --proxy; without one it reads http(s)_proxy as curl does.
  const agent = new EnvHttpProxyAgent({
    ...poolOptions,
    ...(proxy === undefined ? {} : { httpProxy: proxy, httpsProxy: proxy }),
    connect: { ...tls, timeout: connectTimeout },
    requestTls: { ...tls, timeout: connectTimeout },
    proxyTls: { ...tls, timeout: connectTimeout },
    // Plain http targets are sent to the proxy as absolute-URI requests (what curl does and
    // what proxies log and cache); https targets are tunnelled with CONNECT regardless.
    proxyTunnel: false,
    // undici builds the socket pool to a non-tunnelling proxy with only `connect`; this
    // factory gives it the same timeouts and keep-alive as direct connections.
    factory: (origin: string | URL, options: object) =>
      new Pool(origin, { ...poolOptions, ...options } as Pool.Options),
  });
  // So a failure can be named as the proxy's (proxy-label.ts).
  rememberProxy(agent, proxy);
  return agent;
}

/** Throws a UsageError naming where the proxy came from; never echoes its credentials. */
export function validateProxyUrl(text: string, from: string): URL {
  // Not as one URL: redactSecrets would mask an example with credentials in it.
  const hint =
    'write it as http://host:port; credentials go before the host as user:password@ ' +
    '(percent-encode @ : / inside them)';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid proxy URL "${maskCredentials(text)}" from ${from}`, { hint });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `unsupported proxy URL "${maskCredentials(text)}" from ${from}: the scheme must be http or https`,
      { hint },
    );
  }
  if (url.hostname === '') {
    throw new UsageError(`proxy URL from ${from} has no host`, { hint });
  }
  if (url.username !== '' && url.password === '') {
    throw new UsageError(`proxy URL from ${from} has a user name but no password`, { hint });
  }
  return url;
}

// redactSecrets only recognises scheme://user:pass@; a malformed URL may lack the scheme.
function maskCredentials(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  return `${scheme}***:***${text.slice(at)}`;
}

function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --ca-file ${path}: ${(error as Error).message}`, {
      hint: 'give the path of a PEM file with the CA certificates to trust',
      cause: error,
    });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`--ca-file ${path} holds no PEM certificate`, {
      hint: 'give a PEM file (-----BEGIN CERTIFICATE-----); convert DER with `openssl x509 -inform der`',
    });
  }
  return pem;
}
