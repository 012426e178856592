import { AirlockError, IntegrityError, NetworkError, redactUrl } from '../errors.js';

/**
 * An HTTP response whose status is not what the request wanted. The code is `EHTTP<status>`
 * (`EHTTP404`) so callers can fall back on a missing document (PACKAGES.gz → PACKAGES) without
 * parsing messages; `retryAfterMs` carries the server's Retry-After for the retry policy.
 */
export class HttpStatusError extends NetworkError {
  readonly retryAfterMs: number | undefined;
  /** The proxy (redacted) when the proxy wrote this answer itself (proxy-label.ts). */
  readonly proxy: string | undefined;

  constructor(url: string, status: number, retryAfterMs?: number, proxy?: string) {
    super(
      proxy === undefined
        ? `${url} answered HTTP ${status}`
        : `the proxy ${proxy} answered HTTP ${status} for ${url}`,
      {
        url,
        status,
        code: `EHTTP${status}`,
        hint: proxy === undefined ? hintForStatus(status) : hintForProxyStatus(status),
      },
    );
    this.retryAfterMs = retryAfterMs;
    this.proxy = proxy;
  }
}

function hintForProxyStatus(status: number): string {
  if (status === 407) {
    return 'the proxy requires credentials: put them in the proxy URL, before the host: user:password@host:port';
  }
  if (status === 403) {
    return "the proxy's rules refuse this request: ask its administrator to allow the upstream host, or list the host in NO_PROXY if it is reachable directly";
  }
  return 'the proxy could not reach the upstream or is failing: check the proxy (and the upstream from it), then run the same command again (finished files are kept)';
}

/** A proxy's own failure (dead, refusing a tunnel), named as the proxy's. */
export class ProxyError extends NetworkError {
  constructor(url: string, what: string, cause: unknown) {
    super(`${what}, fetching ${url}`, {
      url,
      code: 'EPROXY',
      cause,
      hint: 'check that the proxy runs and allows this host (--proxy, HTTPS_PROXY/HTTP_PROXY, NO_PROXY), then run the same command again',
    });
  }
}

/** A few words for a retry line: "HTTP 503", "connection refused", "the proxy ... refused ...". */
export function retryReason(error: unknown, proxyFailure?: string): string {
  if (proxyFailure !== undefined) return proxyFailure;
  if (error instanceof HttpStatusError) {
    return error.proxy === undefined
      ? `HTTP ${error.status}`
      : `the proxy ${error.proxy} answered HTTP ${error.status}`;
  }
  if (error instanceof HashMismatchError) return 'the bytes did not match the published hash';
  const code = (error as { code?: unknown } | null)?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'timed out',
    EAI_AGAIN: 'name lookup failed for now',
    UND_ERR_SOCKET: 'the other side closed the connection',
    UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
    UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
    UND_ERR_BODY_TIMEOUT: 'the body stalled',
    ESHORTBODY: 'the body ended early',
  };
  if (typeof code === 'string') return words[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}

function hintForStatus(status: number): string {
  if (status === 404 || status === 410) {
    return 'the upstream does not have this file: check the source url and snapshot in the config';
  }
  if (status === 401 || status === 403) {
    return 'the upstream refused access: check credentials, the proxy rules, or whether the snapshot is public';
  }
  // 407 comes only from a proxy, even one not recognised as such.
  if (status === 407) return hintForProxyStatus(407);
  return 'the upstream or the proxy is failing: run the same command again later (finished files are kept)';
}

/**
 * The body ended before the length the server announced (or the expected size): a network
 * problem, not tampering, so it is retried by resuming from what arrived.
 */
export class ShortBodyError extends NetworkError {
  constructor(url: string, received: number, expected: number) {
    super(`${url}: the body ended after ${received} of ${expected} bytes`, {
      url,
      code: 'ESHORTBODY',
      hint: 'the connection dropped mid-file: run the same command again to resume',
    });
  }
}

/** Bytes arrived but are not the bytes the upstream published: retried from scratch, then fatal. */
export class HashMismatchError extends IntegrityError {
  readonly url: string;
  constructor(url: string, what: string, expected: string, actual: string) {
    super(`${url}: ${what} is ${actual}, expected ${expected}`, {
      code: 'EHASH',
      hint:
        'the upstream served bytes that do not match its own index, or a proxy altered them: ' +
        'run again later, and report it to the upstream if it persists (nothing was stored)',
    });
    this.url = redactUrl(url);
  }
}

/**
 * The error a request ends with, once retries are spent, as an AirlockError naming the URL.
 * Typed errors pass through; raw socket/undici errors become a NetworkError with a hint.
 */
export function networkErrorFrom(error: unknown, url: string, proxyFailure?: string): AirlockError {
  if (error instanceof AirlockError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  // undici reports a proxy's 407 as an argument error (plain proxying) or an aborted tunnel.
  if (/\(407\)/.test(message)) {
    return new NetworkError(`${url}: the proxy requires authentication (HTTP 407)`, {
      url,
      status: 407,
      code: 'EPROXYAUTH',
      cause: error,
      hint: 'put the credentials in the proxy URL, before the host: user:password@host:port',
    });
  }
  if (proxyFailure !== undefined) return new ProxyError(url, proxyFailure, error);
  return new NetworkError(`${url}: ${message}`, {
    url,
    code: typeof code === 'string' ? code : 'ENETWORK',
    cause: error,
    hint:
      'check the network, the proxy settings (--proxy, HTTPS_PROXY, NO_PROXY) and the upstream, ' +
      'then run the same command again (finished files are kept, partial ones resume)',
  });
}
