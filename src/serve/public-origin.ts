/**
 * The origin (scheme and host) clients reach this server at, for the URLs the landing page
 * prints. Behind a load balancer or TLS terminator the request's Host is the hop between proxy
 * and server; the proxy's X-Forwarded-Proto and X-Forwarded-Host name what the client typed.
 * With several proxies each appends to the list, so the first value is the client-facing one.
 * The values only shape the text of the page shown to the same request (the page is not
 * cached), and anything that is not a plain scheme or host name is ignored.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface PublicOrigin {
  scheme: 'http' | 'https';
  host: string;
}

const SAFE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export function publicOrigin(headers: IncomingHttpHeaders, fallbackHost: string): PublicOrigin {
  const proto = firstValue(headers['x-forwarded-proto'])?.toLowerCase();
  const forwardedHost = firstValue(headers['x-forwarded-host']);
  const host = [forwardedHost, headers.host].find(
    (h): h is string => typeof h === 'string' && SAFE_HOST.test(h),
  );
  return {
    scheme: proto === 'https' ? 'https' : 'http',
    host: host ?? fallbackHost,
  };
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  return text?.split(',')[0]?.trim() || undefined;
}
