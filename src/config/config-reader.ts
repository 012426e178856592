/**
 * A typed walk over a parsed YAML/JSON document that knows where every value came from, so a
 * config error names the file, the line, the key path and the fix.
 *
 * Anchors, aliases (`snapshot: *s`) and merge keys (`<<: *base`, YAML 1.1, which the yaml
 * library supports with `merge: true`) are resolved here, step by step along a key path, so a
 * value reached through one is read like any other and its error names both where it is
 * written and the alias or merge that brought it in.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
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
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, merge: true });
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
    const node = path.length === 0 ? this.doc.contents : this.locate(path)?.node;
    if (node === undefined || node === null) return undefined;
    return (node as Node).toJS(this.doc);
  }

  /** 'mirror.yaml:12: sources[1].type' — where a value (or its parent) sits. */
  where(path: KeyPath): string {
    const found = this.locate(path);
    return found?.line === undefined
      ? `${this.file}: ${formatKeyPath(path)}`
      : `${this.file}:${found.line}: ${formatKeyPath(path)}`;
  }

  fail(path: KeyPath, problem: string, hint: string): never {
    const via = this.locate(path)?.via ?? [];
    const from = via.length > 0 ? ` (${via.join(', ')})` : '';
    throw new ConfigError(`${this.where(path)}: ${problem}${from}`, { hint });
  }

  /** Keys of the mapping at path (merged ones included), refusing any key not in `allowed`. */
  keys(path: KeyPath, allowed: readonly string[]): string[] {
    const node = path.length === 0 ? this.doc.contents : this.locate(path)?.node;
    if (!isMap(node))
      this.fail(path, 'expected a mapping of keys to values', 'see samples/ for the shape');
    const keys: string[] = [];
    for (const { key } of this.pairs(node)) {
      // `x-` keys at the top level hold anchors for the rest of the file, as in compose files.
      if (path.length === 0 && key.startsWith('x-')) continue;
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
    const node = this.locate(path)?.node;
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

  /**
   * The node at path with the line it is written on (the key's line for a mapping value) and
   * the aliases and merges crossed to reach it; undefined when the path leads nowhere.
   */
  private locate(path: KeyPath): Located | undefined {
    let node: unknown = this.doc.contents;
    let line = this.lineOf(node);
    const via: string[] = [];
    for (const step of path) {
      node = this.unalias(node, via);
      let next: unknown;
      if (isMap(node) && typeof step === 'string') {
        const pair = this.pairs(node).find((p) => p.key === step);
        if (pair === undefined) return { node: undefined, line, via };
        if (pair.mergedAt !== undefined) via.push(`merged at line ${pair.mergedAt}`);
        line = this.lineOf(pair.pair.key) ?? this.lineOf(pair.pair.value) ?? line;
        next = pair.pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        next = node.items[step];
        if (next === undefined) return { node: undefined, line, via };
        line = this.lineOf(next) ?? line;
      } else {
        return { node: undefined, line, via };
      }
      node = next;
    }
    return { node: this.unalias(node, via) as Node | null, line, via };
  }

  /** An alias's target, noting the anchor; any other node as it is. */
  private unalias(node: unknown, via: string[]): unknown {
    if (!isAlias(node)) return node;
    const target = node.resolve(this.doc);
    const at = this.lineOf(target);
    via.push(`value from &${node.source}${at === undefined ? '' : ` at line ${at}`}`);
    return target;
  }

  /**
   * A mapping's pairs by key, merge keys expanded: its own keys first, then each merged
   * mapping's in order (the first that sets a key wins, as YAML's merge rule says).
   */
  private pairs(map: YAMLMap): MapPair[] {
    const own: MapPair[] = [];
    const merged: MapPair[] = [];
    for (const pair of map.items as Pair[]) {
      const key = keyText(pair.key);
      if (key !== '<<') {
        own.push({ key, pair });
        continue;
      }
      const at = this.lineOf(pair.key);
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const target = isAlias(source) ? source.resolve(this.doc) : source;
        if (!isMap(target)) {
          this.fail([], `a merge key (<<) at line ${at ?? '?'} must name a mapping`, MERGE_HINT);
        }
        for (const inner of this.pairs(target)) merged.push({ ...inner, mergedAt: at });
      }
    }
    const out = [...own];
    for (const m of merged) if (!out.some((p) => p.key === m.key)) out.push(m);
    return out;
  }

  private lineOf(node: unknown): number | undefined {
    const offset = (node as Node | null | undefined)?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  private sourceText(path: KeyPath): string {
    const node = this.locate(path)?.node as { source?: string; value?: unknown } | undefined;
    if (node && typeof node.source === 'string') return node.source.trim();
    const v = node?.value;
    return v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
  }
}

interface Located {
  node: Node | null | undefined;
  line: number | undefined;
  via: string[];
}

interface MapPair {
  key: string;
  pair: Pair;
  /** Line of the merge key (<<) that brought the pair in. */
  mergedAt?: number | undefined;
}

const MERGE_HINT = 'write "<<: *name" with the anchor of a mapping, or a list of them';

function keyText(key: unknown): string {
  const value = isScalar(key) ? key.value : key;
  // With merge keys on, the library reads `<<` as Symbol('<<').
  return typeof value === 'symbol' ? (value.description ?? '') : String(value);
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
