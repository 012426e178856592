/**
 * Request-header parsing the server needs: Accept-Encoding, Range, the conditional headers and
 * R's User-Agent (PEP 691 Accept negotiation lives in src/upstream/pypi-simple.ts). Pure functions over header strings, so they are tested
 * without a socket.
 */

/** One item of a quality list (Accept-Encoding) with its q. */
interface MediaRange {
  type: string;
  q: number;
}

function parseQualityList(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    let q = 1;
    for (const param of params) {
      const match = /^q\s*=\s*([0-9.]+)$/i.exec(param);
      if (match) q = Math.min(1, Number(match[1]) || 0);
    }
    ranges.push({ type: type.toLowerCase(), q });
  }
  return ranges;
}

/** Whether the client accepts a gzip-coded body (RFC 9110 §12.5.3). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  const codings = parseQualityList(acceptEncoding);
  const gzip = codings.find((c) => c.type === 'gzip' || c.type === 'x-gzip');
  if (gzip) return gzip.q > 0;
  const star = codings.find((c) => c.type === '*');
  return star !== undefined && star.q > 0;
}

/** An inclusive byte range, already clamped to the representation's size. */
export interface SatisfiableRange {
  start: number;
  end: number;
}

/**
 * Parses a Range header against a representation of `size` bytes. Only a single range is
 * honoured (clients resuming a download ask for one); multi-range or malformed headers are
 * ignored, which RFC 9110 §14.2 allows: the server then sends the whole body with 200.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): SatisfiableRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * If-None-Match against our strong ETag (RFC 9110 §13.1.2): weak comparison, so `W/"x"`
 * matches `"x"`; `*` matches any current representation.
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === opaque);
}

/**
 * If-Range (RFC 9110 §13.1.5): the range applies only when the validator still names this
 * representation. It needs a strong match for an ETag; a date must equal Last-Modified.
 */
export function ifRangeHolds(
  ifRange: string | undefined,
  etag: string,
  lastModified: string | undefined,
): boolean {
  if (!ifRange) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  return lastModified !== undefined && value === lastModified;
}

/** If-Modified-Since, consulted only when the request carries no If-None-Match. */
export function notModifiedSince(
  ifModifiedSince: string | undefined,
  lastModified: string | undefined,
): boolean {
  if (!ifModifiedSince || !lastModified) return false;
  const since = Date.parse(ifModifiedSince);
  const modified = Date.parse(lastModified);
  return Number.isFinite(since) && Number.isFinite(modified) && modified <= since;
}

/** The R minor version ("4.3") from R's User-Agent `R (4.3.2 x86_64-pc-linux-gnu ...)`. */
export function rMinorFromUserAgent(userAgent: string | undefined): string | undefined {
  const match = /\bR \((\d+)\.(\d+)\.\d+/.exec(userAgent ?? '');
  return match ? `${match[1]}.${match[2]}` : undefined;
}
