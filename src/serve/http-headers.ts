/**
 * Request-header parsing the server needs: Accept (PEP 691 negotiation), Accept-Encoding,
 * Range and the conditional headers. Pure functions over header strings, so they are tested
 * without a socket.
 */

/** One media range of an Accept header with its quality. */
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

/**
 * Chooses among `offered` (in server preference order) by the client's Accept header (RFC 9110
 * §12.5.1): the most specific matching range gives a type its quality; the highest quality
 * wins, ties go to the server's order. No Accept header means anything goes. Returns undefined
 * when nothing offered is acceptable (the caller answers 406).
 */
export function negotiateMediaType(accept: string | undefined, offered: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = parseQualityList(accept);
  let best: { type: string; q: number } | undefined;
  for (const type of offered) {
    const q = qualityOf(type, ranges);
    if (q > 0 && (best === undefined || q > best.q)) best = { type, q };
  }
  return best?.type;
}

function qualityOf(type: string, ranges: MediaRange[]): number {
  const [major] = type.split('/');
  let found: { specificity: number; q: number } | undefined;
  for (const range of ranges) {
    const specificity =
      range.type === type ? 3 : range.type === `${major}/*` ? 2 : range.type === '*/*' ? 1 : 0;
    if (specificity > 0 && (found === undefined || specificity > found.specificity)) {
      found = { specificity, q: range.q };
    }
  }
  return found?.q ?? 0;
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
export function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: string | undefined): boolean {
  if (!ifRange) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  return lastModified !== undefined && value === lastModified;
}

/** If-Modified-Since, consulted only when the request carries no If-None-Match. */
export function notModifiedSince(ifModifiedSince: string | undefined, lastModified: string | undefined): boolean {
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
