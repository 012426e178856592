/**
 * Parsing the repository's JSON documents at the edge: a document that is missing a field or
 * has the wrong type is an IntegrityError naming the key, so inner code trusts the types.
 */
import { IntegrityError } from '../errors.js';

export type Json = Record<string, unknown>;

export function documentError(key: string, location: string, why: string): IntegrityError {
  return new IntegrityError(`${location}: ${key} is not a valid repository document: ${why}`, {
    code: 'EDOCUMENT',
    hint: 'the repository was damaged or written by a different tool; run `airlock check` and the `airlock import MANIFEST --repair` commands it prints',
  });
}

export function parseJsonObject(bytes: Buffer | string, key: string, location: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString());
  } catch (err) {
    throw documentError(key, location, (err as Error).message);
  }
  if (!isObject(value)) throw documentError(key, location, 'not a JSON object');
  return value;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field readers that throw a documentError naming the field. */
export class Fields {
  constructor(
    private readonly key: string,
    private readonly location: string,
  ) {}

  fail(why: string): never {
    throw documentError(this.key, this.location, why);
  }

  object(obj: Json, field: string): Json {
    const value = obj[field];
    return isObject(value) ? value : this.fail(`"${field}" is not an object`);
  }

  string(obj: Json, field: string, pattern?: RegExp): string {
    const value = obj[field];
    if (typeof value !== 'string') this.fail(`"${field}" is not a string`);
    if (pattern && !pattern.test(value)) this.fail(`"${field}" has an invalid value`);
    return value;
  }

  optionalString(obj: Json, field: string): string | undefined {
    return obj[field] === undefined ? undefined : this.string(obj, field);
  }

  count(obj: Json, field: string): number {
    const value = obj[field];
    return Number.isSafeInteger(value) && (value as number) >= 0
      ? (value as number)
      : this.fail(`"${field}" is not a non-negative integer`);
  }

  boolean(obj: Json, field: string): boolean {
    const value = obj[field];
    return typeof value === 'boolean' ? value : this.fail(`"${field}" is not true or false`);
  }

  stringArray(obj: Json, field: string): string[] {
    const value = obj[field];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      this.fail(`"${field}" is not a list of strings`);
    }
    return value as string[];
  }
}
