/**
 * Static dependencies from an sdist's `pyproject.toml` (PEP 621): `[project] dependencies`
 * and `optional-dependencies`, unless `dynamic` names them (then only the build backend
 * knows). The reader below is a small TOML reader: it parses the whole document's structure
 * (tables, dotted and quoted keys, strings of all four kinds, arrays and inline tables over
 * several lines, comments) so that those keys are found where TOML puts them, and keeps other
 * scalars (numbers, dates, booleans) as their text, which nothing here reads.
 */
import { withCondition, type StaticRequirements } from './egg-requires.js';

type TomlValue = string | TomlValue[] | TomlTable;
interface TomlTable {
  [key: string]: TomlValue;
}

export function parsePyprojectDependencies(text: string): StaticRequirements | undefined {
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch {
    return undefined; // not TOML we can read: the dependencies stay unknown
  }
  const project = doc.project;
  if (!isTable(project)) return undefined;
  const dynamic = Array.isArray(project.dynamic) ? project.dynamic : [];
  if (dynamic.includes('dependencies')) return undefined;
  // PEP 621: a [project] table that neither lists nor marks dynamic its dependencies has none.
  const requiresDist = strings(project.dependencies ?? []);
  const optional = project['optional-dependencies'];
  if (requiresDist === undefined) return undefined;
  const providesExtra: string[] = [];
  if (dynamic.includes('optional-dependencies')) return undefined;
  if (isTable(optional)) {
    for (const [extra, list] of Object.entries(optional)) {
      const requirements = strings(list);
      if (requirements === undefined) return undefined;
      providesExtra.push(extra);
      for (const r of requirements) requiresDist.push(withCondition(r, `extra == "${extra}"`));
    }
  }
  return { requiresDist, providesExtra };
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && !Array.isArray(v);
}

function strings(v: TomlValue | undefined): string[] | undefined {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) return undefined;
  return [...v];
}

class TomlSyntaxError extends Error {}

export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let table = root;
  let i = 0;
  const fail = (what: string): never => {
    throw new TomlSyntaxError(`${what} at offset ${i}`);
  };
  const skip = (newlines: boolean) => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) i++;
      else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else return;
    }
  };
  const string = (): string => {
    const quote = text[i]!;
    const multi = text.startsWith(quote.repeat(3), i);
    const end = multi ? quote.repeat(3) : quote;
    i += end.length;
    if (multi && text[i] === '\n') i++;
    else if (multi && text.startsWith('\r\n', i)) i += 2;
    let out = '';
    while (!text.startsWith(end, i)) {
      if (i >= text.length || (!multi && text[i] === '\n')) fail('unterminated string');
      const c = text[i++]!;
      if (c !== '\\' || quote === "'") {
        out += c;
        continue;
      }
      const e = text[i++]!;
      const simple: Record<string, string> = {
        b: '\b',
        t: '\t',
        n: '\n',
        f: '\f',
        r: '\r',
        '"': '"',
        '\\': '\\',
      };
      if (e in simple) out += simple[e];
      else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        out += String.fromCodePoint(parseInt(text.slice(i, i + n), 16));
        i += n;
      } else if (multi && /\s/.test(e)) {
        // A line-ending backslash trims the whitespace that follows it.
        while (/\s/.test(text[i] ?? '')) i++;
      } else fail('bad escape');
    }
    // Up to two quotes may end a multi-line string's content: '''a'''' is "a'".
    let run = 0;
    while (text[i + run] === quote) run++;
    if (multi && run > 3) out += quote.repeat(Math.min(run - 3, 2));
    i += multi ? Math.min(run, 5) : 1;
    return out;
  };
  const key = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skip(false);
      const c = text[i];
      if (c === '"' || c === "'") parts.push(string());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i, i + 256));
        if (!m) fail('expected a key');
        parts.push(m![0]);
        i += m![0].length;
      }
      skip(false);
      if (text[i] !== '.') return parts;
      i++;
    }
  };
  const value = (): TomlValue => {
    skip(false);
    const c = text[i];
    if (c === '"' || c === "'") return string();
    if (c === '[') {
      i++;
      const list: TomlValue[] = [];
      for (;;) {
        skip(true);
        if (text[i] === ']') break;
        list.push(value());
        skip(true);
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail('expected , or ]');
      }
      i++;
      return list;
    }
    if (c === '{') {
      i++;
      const inline: TomlTable = {};
      skip(false);
      if (text[i] === '}') return (i++, inline);
      for (;;) {
        assign(inline, key(), expectEquals());
        skip(false);
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, inline);
        else fail('expected , or }');
      }
    }
    const m = /^[^\s,\]}#]+/.exec(text.slice(i, i + 256));
    if (!m) fail('expected a value');
    i += m![0].length;
    return m![0];
  };
  const expectEquals = (): TomlValue => {
    skip(false);
    if (text[i] !== '=') fail('expected =');
    i++;
    return value();
  };
  while (i < text.length) {
    skip(true);
    if (i >= text.length) break;
    if (text[i] === '[') {
      const array = text[i + 1] === '[';
      i += array ? 2 : 1;
      const path = key();
      if (text[i] !== ']' || (array && text[i + 1] !== ']')) fail('expected ]');
      i += array ? 2 : 1;
      table = array ? arrayTable(root, path) : tableAt(root, path);
    } else {
      assign(table, key(), expectEquals());
    }
    skip(false);
    if (i < text.length && text[i] !== '\n' && text[i] !== '\r')
      fail('expected the end of the line');
  }
  return root;
}

function tableAt(root: TomlTable, path: string[]): TomlTable {
  let t = root;
  for (const part of path) {
    const next = t[part] ?? (t[part] = {});
    if (Array.isArray(next)) {
      const last = next.at(-1);
      if (!isTable(last)) throw new TomlSyntaxError(`${part} is not a table`);
      t = last;
    } else if (isTable(next)) t = next;
    else throw new TomlSyntaxError(`${part} is not a table`);
  }
  return t;
}

function arrayTable(root: TomlTable, path: string[]): TomlTable {
  const parent = tableAt(root, path.slice(0, -1));
  const name = path.at(-1)!;
  const list = parent[name] ?? (parent[name] = []);
  if (!Array.isArray(list)) throw new TomlSyntaxError(`${name} is not an array of tables`);
  const t: TomlTable = {};
  list.push(t);
  return t;
}

function assign(table: TomlTable, path: string[], v: TomlValue): void {
  const parent = tableAt(table, path.slice(0, -1));
  const name = path.at(-1)!;
  if (name in parent) throw new TomlSyntaxError(`${name} is defined twice`);
  parent[name] = v;
}
