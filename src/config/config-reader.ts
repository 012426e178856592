/**
 * A typed walk over a parsed YAML/JSON document that knows where every value came from, so a
 * config error names the file, the line, the key path and the fix.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.js';

export type KeyPath = ReadonlyArray<string | number>;

export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${part}` : part;
  return out || '(top level)';
}

export class ConfigReader {
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    const first = this.doc.errors[0];
    if (first) {
      const line = first.linePos?.[0]?.line;
      throw new ConfigError(
        `${file}${line ? `:${line}` : ''}: not valid YAML or JSON: ${first.message.split('\n')[0]}`,
        {
          hint: 'fix the syntax at that line (indentation, a missing colon or quote), then run again',
        },
      );
    }
  }

  value(path: KeyPath): unknown {
    return path.length === 0 ? this.doc.toJS() : toJs(this.doc.getIn(path, true));
  }

  /** 'mirror.yaml:12: sources[1].type' — where a value (or its parent) sits. */
  where(path: KeyPath): string {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : (this.doc.getIn(path.slice(0, n), true) as Node);
      const offset = (node as Node | null)?.range?.[0];
      if (offset !== undefined) {
        return `${this.file}:${this.lines.linePos(offset).line}: ${formatKeyPath(path)}`;
      }
    }
    return `${this.file}: ${formatKeyPath(path)}`;
  }

  fail(path: KeyPath, problem: string, hint: string): never {
    throw new ConfigError(`${this.where(path)}: ${problem}`, { hint });
  }

  /** Keys of the mapping at path, refusing any key not in `allowed`. */
  keys(path: KeyPath, allowed: readonly string[]): string[] {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (!isMap(node))
      this.fail(path, 'expected a mapping of keys to values', 'see samples/ for the shape');
    const keys: string[] = [];
    for (const pair of node.items) {
      const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      if (!allowed.includes(key)) {
        const near = closest(key, allowed);
        this.fail(
          [...path, key],
          `unknown key "${key}"`,
          near
            ? `did you mean "${near}"? allowed here: ${allowed.join(', ')}`
            : `allowed here: ${allowed.join(', ')}`,
        );
      }
      keys.push(key);
    }
    return keys;
  }

  length(path: KeyPath): number {
    const node = this.doc.getIn(path, true);
    if (!isSeq(node))
      this.fail(
        path,
        'expected a list',
        'write it as a YAML list ("- item" lines) or a JSON array',
      );
    return node.items.length;
  }

  string(path: KeyPath, opts: { required: true }): string;
  string(path: KeyPath, opts?: { required?: boolean }): string | undefined;
  string(path: KeyPath, opts: { required?: boolean } = {}): string | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) {
      if (opts.required)
        this.fail(path, 'is required', `add "${String(path[path.length - 1])}:" here`);
      return undefined;
    }
    // YAML reads 2026-11-01 and 4.3 as other scalars; keep what the user wrote.
    if (typeof v === 'number' || v instanceof Date) return this.sourceText(path);
    if (typeof v !== 'string' || v.trim() === '')
      this.fail(path, `expected text, got ${describe(v)}`, 'quote the value');
    return v.trim();
  }

  boolean(path: KeyPath, fallback: boolean): boolean {
    const v = this.value(path);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean')
      this.fail(path, `expected true or false, got ${describe(v)}`, 'write true or false');
    return v;
  }

  integer(path: KeyPath, range: { min: number; max: number }): number | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range.min || v > range.max) {
      this.fail(
        path,
        `expected a whole number from ${range.min} to ${range.max}, got ${describe(v)}`,
        'fix the number',
      );
    }
    return v;
  }

  /** A list of strings, or a single string taken as a one-item list. */
  strings(path: KeyPath): string[] | undefined {
    const v = this.value(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string' || typeof v === 'number')
      return [this.string(path, { required: true })];
    const n = this.length(path);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string([...path, i], { required: true }));
    return out;
  }

  private sourceText(path: KeyPath): string {
    const node = this.doc.getIn(path, true) as { source?: string; value?: unknown } | undefined;
    if (node && typeof node.source === 'string') return node.source.trim();
    const v = node?.value;
    return v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
  }
}

function toJs(node: unknown): unknown {
  if (node && typeof node === 'object' && 'toJSON' in node && typeof node.toJSON === 'function') {
    return node.toJSON();
  }
  return node;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'nothing';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** The allowed key within edit distance 2, to turn a typo into a suggestion. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}
