/**
 * Media types from Content-Type and Accept headers (RFC 9110 §8.3, §12.5.1): what PEP 691
 * content negotiation needs on both sides, the client reading a response and the server
 * answering a request.
 */

/** The media type of a Content-Type value: lowercase, parameters dropped ('' when absent). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

interface AcceptRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  for (const item of accept.split(',')) {
    const [range = '', ...params] = item.split(';');
    const [type = '', subtype = ''] = range.trim().toLowerCase().split('/');
    if (type === '' || subtype === '') continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=').map((part) => part.trim().toLowerCase());
      if (key === 'q' && value !== undefined)
        q = Number.isFinite(Number(value)) ? Number(value) : 0;
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/**
 * Picks the offer the client prefers: each offer gets the q of the most specific range that
 * matches it; the highest q wins and ties go to the earlier offer (the server's preference).
 * No Accept header means anything goes (the first offer); nothing acceptable gives undefined.
 */
export function negotiate(
  accept: string | undefined,
  offers: readonly string[],
): string | undefined {
  if (accept === undefined || accept.trim() === '') return offers[0];
  const ranges = parseAccept(accept);
  let best: string | undefined;
  let bestQ = 0;
  for (const offer of offers) {
    const [type, subtype] = offer.toLowerCase().split('/');
    let q = 0;
    let specificity = -1;
    for (const range of ranges) {
      const level =
        range.type === type && range.subtype === subtype ? 2
        : range.type === type && range.subtype === '*' ? 1
        : range.type === '*' && range.subtype === '*' ? 0
        : -1; // prettier-ignore
      if (level > specificity) {
        specificity = level;
        q = range.q;
      }
    }
    if (q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best;
}
