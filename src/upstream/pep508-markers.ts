/**
 * PEP 508 environment markers: parsing into a tree and evaluation against one target
 * environment, following `packaging.markers`.
 */
import { InvalidSpecifierError, parseSpecifier, parseVersion, SpecifierSet } from './pep440.js';

export const MARKER_VARIABLES = [
  'python_version',
  'python_full_version',
  'os_name',
  'sys_platform',
  'platform_machine',
  'platform_system',
  'platform_release',
  'platform_version',
  'implementation_name',
  'implementation_version',
  'platform_python_implementation',
  'extra',
] as const;
export type MarkerVariable = (typeof MARKER_VARIABLES)[number];

export type MarkerEnvironment = Record<Exclude<MarkerVariable, 'extra'>, string>;

// Spellings from PEP 345 and setuptools that packaging still accepts.
const LEGACY_VARIABLES: Record<string, MarkerVariable> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

export type MarkerOperator = '===' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '~=' | 'in' | 'not in';

export type MarkerValue = { variable: MarkerVariable } | { literal: string };

export interface MarkerComparison {
  op: MarkerOperator;
  left: MarkerValue;
  right: MarkerValue;
}
export interface MarkerJunction {
  op: 'and' | 'or';
  left: Marker;
  right: Marker;
}
export type Marker = MarkerComparison | MarkerJunction;

function isJunction(marker: Marker): marker is MarkerJunction {
  return marker.op === 'and' || marker.op === 'or';
}

export class InvalidMarkerError extends Error {
  override name = 'InvalidMarkerError';
}

const TOKEN =
  /\s*(?:(?<paren>[()])|(?<str>'[^']*'|"[^"]*")|(?<op>===|==|!=|<=|>=|~=|<|>)|(?<word>[A-Za-z_][A-Za-z0-9_.]*))/y;

type Token = { kind: 'paren' | 'str' | 'op' | 'word'; text: string; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match?.groups) {
      throw new InvalidMarkerError(
        `invalid marker '${text}': unexpected text at '${text.slice(at).trim()}'`,
      );
    }
    const [kind, value] = Object.entries(match.groups).find(([, v]) => v !== undefined)!;
    tokens.push({ kind: kind as Token['kind'], text: value!, at });
  }
  return tokens;
}

/** Parses a marker expression ('python_version < "3.12" and extra == "fast"'). */
export function parseMarker(text: string): Marker {
  const tokens = tokenize(text);
  let pos = 0;
  const fail = (why: string): never => {
    throw new InvalidMarkerError(`invalid marker '${text.trim()}': ${why}`);
  };
  const peek = () => tokens[pos];
  const isWord = (word: string) => peek()?.kind === 'word' && peek()!.text === word;

  const parseOr = (): Marker => {
    let left = parseAnd();
    while (isWord('or')) {
      pos++;
      left = { op: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Marker => {
    let left = parseAtom();
    while (isWord('and')) {
      pos++;
      left = { op: 'and', left, right: parseAtom() };
    }
    return left;
  };
  const parseAtom = (): Marker => {
    if (peek()?.kind === 'paren' && peek()!.text === '(') {
      pos++;
      const inner = parseOr();
      if (peek()?.text !== ')') fail("missing ')'");
      pos++;
      return inner;
    }
    const left = parseValue();
    const op = parseOperator();
    return { op, left, right: parseValue() };
  };
  const parseValue = (): MarkerValue => {
    const token = tokens[pos++];
    if (!token) return fail('expected a variable or a quoted string at the end');
    if (token.kind === 'str') return { literal: token.text.slice(1, -1) };
    if (token.kind === 'word') {
      const name = LEGACY_VARIABLES[token.text] ?? token.text;
      if ((MARKER_VARIABLES as readonly string[]).includes(name)) {
        return { variable: name as MarkerVariable };
      }
      return fail(`unknown variable '${token.text}'`);
    }
    return fail(`expected a variable or a quoted string, found '${token.text}'`);
  };
  const parseOperator = (): MarkerOperator => {
    const token = tokens[pos++];
    if (token?.kind === 'op') return token.text as MarkerOperator;
    if (token?.kind === 'word' && token.text === 'in') return 'in';
    if (token?.kind === 'word' && token.text === 'not' && isWord('in')) {
      pos++;
      return 'not in';
    }
    return fail(`expected a comparison operator, found '${token?.text ?? 'the end'}'`);
  };

  const marker = parseOr();
  if (pos < tokens.length) fail(`unexpected '${tokens[pos]!.text}'`);
  return marker;
}

/**
 * Evaluates a marker for one environment. With extras, the marker holds when it holds for
 * any one of them (as pip evaluates `extra == "..."` once per requested extra); without,
 * `extra` is the empty string.
 */
export function evaluateMarker(
  marker: Marker,
  env: MarkerEnvironment,
  extras: ReadonlySet<string> = new Set(),
): boolean {
  const values = extras.size === 0 ? [''] : [...extras];
  return values.some((extra) => evaluate(marker, env, normalizeExtra(extra)));
}

/** Whether a marker mentions `extra` at all (dependencies that only extras pull in). */
export function markerUsesExtra(marker: Marker): boolean {
  if (isJunction(marker)) {
    return markerUsesExtra(marker.left) || markerUsesExtra(marker.right);
  }
  return 'variable' in marker.left
    ? marker.left.variable === 'extra'
    : 'variable' in marker.right && marker.right.variable === 'extra';
}

function evaluate(marker: Marker, env: MarkerEnvironment, extra: string): boolean {
  if (isJunction(marker)) {
    const left = evaluate(marker.left, env, extra);
    return marker.op === 'and'
      ? left && evaluate(marker.right, env, extra)
      : left || evaluate(marker.right, env, extra);
  }
  const isExtra = [marker.left, marker.right].some(
    (v) => 'variable' in v && v.variable === 'extra',
  );
  const resolve = (v: MarkerValue) => {
    const text = 'literal' in v ? v.literal : v.variable === 'extra' ? extra : env[v.variable];
    // Extras compare by normalized name ('Fast_Calc' == 'fast-calc').
    return isExtra ? normalizeExtra(text) : text;
  };
  return compare(resolve(marker.left), marker.op, resolve(marker.right));
}

function compare(left: string, op: MarkerOperator, right: string): boolean {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (parseVersion(left) !== undefined) {
    try {
      return new SpecifierSet([parseSpecifier(`${op}${right}`)]).contains(left, {
        prereleases: true,
      });
    } catch (err) {
      if (!(err instanceof InvalidSpecifierError)) throw err;
    }
  }
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    default:
      throw new InvalidMarkerError(`cannot compare '${left}' ${op} '${right}': not versions`);
  }
}

function normalizeExtra(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
