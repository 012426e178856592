/**
 * Debian Control File format as R writes it (PACKAGES, DESCRIPTION): stanzas of `Field: value`
 * lines separated by blank lines, continuation lines indented with a space or tab.
 *
 * Indexes reach 25 MB (CRAN) to 200k stanzas (Package Manager), so the parser walks the text
 * once with indexOf and never splits it into an array of lines.
 */
import { IntegrityError } from '../errors.js';

export interface DcfStanza {
  /**
   * Field values, leading and trailing whitespace removed, continuation lines trimmed and joined
   * with one space (R's read.dcf joins with '\n'; one space reads the same for every field R's
   * install machinery parses). A repeated field keeps its last value.
   */
  fields: Map<string, string>;
  /**
   * The stanza exactly as it appeared: from the start of its first line to the end of its last
   * line, without that last line's terminator (inner CRLFs and trailing spaces are kept), so a
   * filtered PACKAGES can be re-emitted byte for byte.
   */
  raw: string;
  /** 1-based line number of the stanza's first line, for error messages. */
  line: number;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const BOM = 0xfeff;

/**
 * Parses DCF text into stanzas. `name` (a URL or file path) is only used in error messages.
 * Throws IntegrityError EINDEX on a line that is neither a field nor a continuation.
 */
export function parseDcf(text: string, name = 'DCF text'): DcfStanza[] {
  const stanzas: DcfStanza[] = [];
  const length = text.length;
  let pos = text.charCodeAt(0) === BOM ? 1 : 0;
  let lineNo = 0;

  let fields: Map<string, string> | undefined;
  let stanzaStart = 0;
  let stanzaLine = 0;
  let contentEnd = 0;
  let field: string | undefined;
  let value = '';

  const closeStanza = (): void => {
    if (fields === undefined) return;
    if (field !== undefined) fields.set(field, value);
    stanzas.push({ fields, raw: text.slice(stanzaStart, contentEnd), line: stanzaLine });
    fields = undefined;
    field = undefined;
  };

  while (pos < length) {
    const newline = text.indexOf('\n', pos);
    const next = newline === -1 ? length : newline + 1;
    let end = newline === -1 ? length : newline;
    if (end > pos && text.charCodeAt(end - 1) === CR) end--;
    lineNo++;

    const first = pos < end ? text.charCodeAt(pos) : LF;
    if (first === SPACE || first === TAB || first === CR || first === LF) {
      const content = pos < end ? text.slice(pos, end).trim() : '';
      if (content === '') {
        // A whitespace-only line ends the stanza, as in R's read.dcf.
        closeStanza();
      } else if (field === undefined) {
        throw malformed(name, lineNo, text, pos, end, 'an indented line with no field before it');
      } else {
        value = value === '' ? content : `${value} ${content}`;
        contentEnd = end;
      }
    } else {
      const colon = text.indexOf(':', pos);
      if (colon === -1 || colon >= end || !isFieldName(text, pos, colon)) {
        throw malformed(name, lineNo, text, pos, end, 'no "Field:" at its start');
      }
      if (fields === undefined) {
        fields = new Map();
        stanzaStart = pos;
        stanzaLine = lineNo;
      } else if (field !== undefined) {
        fields.set(field, value);
      }
      field = text.slice(pos, colon);
      value = text.slice(colon + 1, end).trim();
      contentEnd = end;
    }
    pos = next;
  }
  closeStanza();
  return stanzas;
}

// A field name is one or more printable characters without whitespace (Debian policy 5.1).
function isFieldName(text: string, start: number, colon: number): boolean {
  if (colon === start) return false;
  for (let i = start; i < colon; i++) {
    const c = text.charCodeAt(i);
    if (c <= SPACE || c === 127) return false;
  }
  return true;
}

function malformed(
  name: string,
  lineNo: number,
  text: string,
  start: number,
  end: number,
  why: string,
): IntegrityError {
  const excerpt = text.slice(start, Math.min(end, start + 60));
  return new IntegrityError(
    `${name}: line ${lineNo} is malformed (${why}): ${JSON.stringify(excerpt)}`,
    {
      code: 'EINDEX',
      hint:
        'the upstream index is not in DCF (PACKAGES) format: check that the URL serves the index ' +
        'and not an error page or a truncated file, then run again',
    },
  );
}
