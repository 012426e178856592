/**
 * Just enough HTML to read PEP 503 pages: the start tags a caller asks for, their attributes
 * (any order; double-, single- or unquoted values; entities decoded) and, for `<a>`, the
 * anchor text. One pass over the text: PyPI's /simple/ page has ~600k anchors.
 */

export interface HtmlTag {
  /** Lowercase tag name. */
  name: string;
  /** Lowercase attribute names; the first of a repeated attribute wins, as in browsers. */
  attributes: Map<string, string>;
  /** `<a>` only: the text inside the anchor, inner tags removed, entities decoded, trimmed. */
  text: string;
}

// Their content is text, not markup: a '<a' inside a script is not a link.
const RAW_TEXT_CLOSE = new Map([
  ['script', /<\/script/gi],
  ['style', /<\/style/gi],
]);

export function scanTags(
  html: string,
  wanted: ReadonlySet<string>,
  onTag: (tag: HtmlTag) => void,
): void {
  const length = html.length;
  const anchorClose = /<\/a[\s>]/gi;
  let anchorClosesLeft = true;
  let pos = 0;
  while (pos < length) {
    const lt = html.indexOf('<', pos);
    if (lt === -1) return;
    if (html.startsWith('<!--', lt)) {
      // Commented-out links are not links (pip's parser agrees).
      const close = html.indexOf('-->', lt + 4);
      if (close === -1) return;
      pos = close + 3;
      continue;
    }
    let i = lt + 1;
    while (i < length && isNameChar(html.charCodeAt(i))) i++;
    const name = html.slice(lt + 1, i).toLowerCase();
    if (name === '' || !isTagEnd(html.charCodeAt(i))) {
      pos = lt + 1;
      continue;
    }
    const rawTextClose = RAW_TEXT_CLOSE.get(name);
    if (rawTextClose !== undefined) {
      rawTextClose.lastIndex = i;
      const close = rawTextClose.exec(html);
      if (close === null) return;
      pos = close.index + 2;
      continue;
    }
    if (!wanted.has(name)) {
      pos = i;
      continue;
    }
    const { attributes, end } = readAttributes(html, i);
    let text = '';
    pos = end;
    if (name === 'a' && anchorClosesLeft) {
      anchorClose.lastIndex = end;
      const close = anchorClose.exec(html);
      // Once no closing tag is left, stop searching so unclosed anchors stay linear.
      if (close === null) anchorClosesLeft = false;
      else {
        text = decodeEntities(html.slice(end, close.index).replace(/<[^>]*>/g, '')).trim();
        pos = close.index;
      }
    }
    onTag({ name, attributes, text });
  }
}

function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45;
}

// After a tag name: whitespace, '/', '>' or the end of input (NaN).
function isTagEnd(c: number): boolean {
  return (
    Number.isNaN(c) ||
    c === 32 ||
    c === 9 ||
    c === 10 ||
    c === 13 ||
    c === 12 ||
    c === 47 ||
    c === 62
  );
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

function readAttributes(
  html: string,
  start: number,
): { attributes: Map<string, string>; end: number } {
  const attributes = new Map<string, string>();
  const length = html.length;
  let i = start;
  for (;;) {
    while (i < length && (isSpace(html.charCodeAt(i)) || html.charCodeAt(i) === 47)) i++;
    if (i >= length) return { attributes, end: length };
    if (html.charCodeAt(i) === 62) return { attributes, end: i + 1 };
    const nameStart = i;
    i++; // a name is at least one character, even '=' (HTML tokenizer rule), so we progress
    while (i < length && !/[\s/>=]/.test(html[i] as string)) i++;
    const name = html.slice(nameStart, i).toLowerCase();
    while (i < length && isSpace(html.charCodeAt(i))) i++;
    let value = '';
    if (html[i] === '=') {
      i++;
      while (i < length && isSpace(html.charCodeAt(i))) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        const stop = close === -1 ? length : close;
        value = html.slice(i + 1, stop);
        i = stop + 1;
      } else {
        const valueStart = i;
        while (i < length && !isSpace(html.charCodeAt(i)) && html.charCodeAt(i) !== 62) i++;
        value = html.slice(valueStart, i);
      }
    }
    if (!attributes.has(name)) attributes.set(name, decodeEntities(value));
  }
}

const NAMED_ENTITIES = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
  ['nbsp', '\u00a0'],
]);

/** Decodes the entities PEP 503 pages use: &amp; &lt; &gt; &quot; &apos; &nbsp; and numeric. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);/g, (entity, body: string) => {
    if (body[0] !== '#') return NAMED_ENTITIES.get(body) ?? entity;
    const code =
      body[1] === 'x' || body[1] === 'X'
        ? parseInt(body.slice(2), 16)
        : parseInt(body.slice(1), 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return valid ? String.fromCodePoint(code) : '\ufffd';
  });
}

/** Escapes text for an attribute value or element content. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
