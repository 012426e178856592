/**
 * JSON parsing that knows line numbers. Node 20's JSON.parse errors often carry no position
 * ("Unexpected token '}', ... is not valid JSON"), and an operator fixing a hand-edited
 * renv.lock or manifest.json needs the line: this small RFC 8259 parser reports it, and
 * remembers the line of every object key so later checks can name it too.
 */

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

export interface ParsedJson {
  value: JsonValue;
  /** The line a value starts on: objects and arrays by identity. */
  lineOfValue(value: object): number | undefined;
  /** The line of `key` inside `object`. */
  lineOfKey(object: object, key: string): number | undefined;
}

export function parseJsonWithLines(text: string): ParsedJson {
  const keyLines = new WeakMap<object, Map<string, number>>();
  const valueLines = new WeakMap<object, number>();
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = 0;

  const fail = (why: string): never => {
    throw new JsonSyntaxError(why, line, pos - lineStart + 1);
  };
  const skipSpace = () => {
    for (; pos < text.length; pos++) {
      const c = text[pos];
      if (c === '\n') {
        line++;
        lineStart = pos + 1;
      } else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    }
  };
  const describe = () => (pos >= text.length ? 'the end of the file' : JSON.stringify(text[pos]));
  const expect = (c: string, what: string) => {
    skipSpace();
    if (text[pos] !== c) fail(`expected ${what}, found ${describe()}`);
    pos++;
  };

  const parseValue = (): JsonValue => {
    skipSpace();
    const c = text[pos];
    if (c === '{') return parseObject();
    if (c === '[') return parseArray();
    if (c === '"') return parseString();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      text.slice(pos, pos + 400),
    );
    if (!literal) return fail(`expected a value, found ${describe()}`);
    pos += literal[0].length;
    return JSON.parse(literal[0]) as JsonValue;
  };
  const parseString = (): string => {
    const match = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(
      text.slice(pos),
    );
    if (!match) {
      const end = text.indexOf('\n', pos);
      return fail(
        `unterminated or invalid string ${text.slice(pos, end < 0 ? undefined : end).slice(0, 40)}`,
      );
    }
    pos += match[0].length;
    return JSON.parse(match[0]) as string;
  };
  const parseObject = (): JsonValue => {
    const object: { [key: string]: JsonValue } = {};
    const keys = new Map<string, number>();
    valueLines.set(object, line);
    keyLines.set(object, keys);
    pos++;
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text[pos] !== '"') fail(`expected a quoted property name, found ${describe()}`);
      const keyLine = line;
      const key = parseString();
      keys.set(key, keyLine);
      expect(':', "':' after the property name");
      object[key] = parseValue();
      skipSpace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      expect('}', "',' or '}'");
      return object;
    }
  };
  const parseArray = (): JsonValue => {
    const array: JsonValue[] = [];
    valueLines.set(array, line);
    pos++;
    skipSpace();
    if (text[pos] === ']') {
      pos++;
      return array;
    }
    for (;;) {
      array.push(parseValue());
      skipSpace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      expect(']', "',' or ']'");
      return array;
    }
  };

  const value = parseValue();
  skipSpace();
  if (pos < text.length) fail(`unexpected ${describe()} after the end of the document`);
  return {
    value,
    lineOfValue: (v) => valueLines.get(v),
    lineOfKey: (o, k) => keyLines.get(o)?.get(k),
  };
}
