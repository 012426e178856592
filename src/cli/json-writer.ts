/**
 * Writes a --json result the way JSON.stringify(value, null, 2) would, except that a JsonList
 * in it is written item by item as its iterable yields them. A dry run's file list at 200,000
 * files is 100 MB of JSON: held whole (the objects, then the string) it was most of the run's
 * memory; written this way it costs one item and one 64 KiB chunk at a time.
 */

/** A list written as it is iterated, each item passed through `map`, never held whole. */
export class JsonList<T = unknown> {
  constructor(
    private readonly source: Iterable<T>,
    private readonly map: (item: T) => unknown = (item) => item,
  ) {}

  *items(): Iterable<unknown> {
    for (const item of this.source) yield this.map(item);
  }

  toJSON(): never {
    throw new Error('a JsonList is written by writeJson, not JSON.stringify');
  }
}

const CHUNK = 64 * 1024;

export function writeJson(write: (text: string) => void, value: unknown): void {
  let pending = '';
  const emit = (text: string): void => {
    pending += text;
    if (pending.length >= CHUNK) {
      write(pending);
      pending = '';
    }
  };
  writeValue(emit, value, '');
  emit('\n');
  if (pending) write(pending);
}

function writeValue(emit: (text: string) => void, value: unknown, indent: string): void {
  if (value instanceof JsonList) return writeItems(emit, value.items(), indent);
  if (!containsList(value)) {
    // Everything below is plain JSON: JSON.stringify's own output, shifted to this depth.
    emit((JSON.stringify(value, null, 2) ?? 'null').replaceAll('\n', `\n${indent}`));
    return;
  }
  if (Array.isArray(value)) return writeItems(emit, value, indent);
  const inner = `${indent}  `;
  let first = true;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    emit(`${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `);
    writeValue(emit, v, inner);
    first = false;
  }
  emit(first ? '{}' : `\n${indent}}`);
}

function writeItems(emit: (text: string) => void, items: Iterable<unknown>, indent: string): void {
  const inner = `${indent}  `;
  let first = true;
  for (const item of items) {
    emit(`${first ? '[' : ','}\n${inner}`);
    // As JSON.stringify: what has no JSON form is null inside an array.
    writeValue(emit, typeof item === 'function' || typeof item === 'symbol' ? null : item, inner);
    first = false;
  }
  emit(first ? '[]' : `\n${indent}]`);
}

/** Whether a JsonList is anywhere inside (only plain objects and arrays are looked into). */
function containsList(value: unknown): boolean {
  if (value instanceof JsonList) return true;
  if (Array.isArray(value)) return value.some(containsList);
  if (value === null || typeof value !== 'object') return false;
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).some(containsList);
}
