/**
 * The --json writer prints exactly what JSON.stringify(value, null, 2) prints, with lists
 * given as JsonList written as they are iterated, and in chunks rather than one string.
 */
import { describe, expect, it } from 'vitest';
import { JsonList, writeJson } from '../../src/cli/json-writer.js';

function written(value: unknown): { text: string; chunks: string[] } {
  const chunks: string[] = [];
  writeJson((t) => chunks.push(t), value);
  return { text: chunks.join(''), chunks };
}

const sample = {
  command: 'download',
  dryRun: true,
  skipped: undefined,
  empty: {},
  none: [],
  nested: { a: [1, 'two', null, { b: false }], c: 'quote " and \\ and \n' },
  date: new Date(0),
};

describe('writeJson', () => {
  it('writes plain values as JSON.stringify(value, null, 2) does', () => {
    for (const value of [sample, [], {}, 'x', 3, null, [sample, [sample]]])
      expect(written(value).text).toBe(`${JSON.stringify(value, null, 2)}\n`);
  });

  it('writes a JsonList as the array it would be, mapped, wherever it sits', () => {
    const files = [{ path: 'a' }, { path: 'b', size: 2 }];
    const value = {
      ...sample,
      sources: [
        { name: 's1', list: new JsonList(files, (f) => ({ ...f, seen: true })) },
        { name: 's2', list: new JsonList([]) },
      ],
    };
    const plain = {
      ...sample,
      sources: [
        { name: 's1', list: files.map((f) => ({ ...f, seen: true })) },
        { name: 's2', list: [] },
      ],
    };
    expect(written(value).text).toBe(`${JSON.stringify(plain, null, 2)}\n`);
    expect(JSON.parse(written(value).text)).toEqual(JSON.parse(JSON.stringify(plain)));
  });

  it('pulls the list as it writes it, in chunks of bounded size', () => {
    let pulled = 0;
    function* many() {
      for (let i = 0; i < 20_000; i++) {
        pulled++;
        yield { path: `p/${i}`, reasons: ['r'] };
      }
    }
    const { text, chunks } = written({ list: new JsonList(many()) });
    expect(pulled).toBe(20_000);
    expect(chunks.length).toBeGreaterThan(10);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(70 * 1024);
    const parsed = JSON.parse(text) as { list: { path: string }[] };
    expect(parsed.list).toHaveLength(20_000);
    expect(parsed.list[19_999]!.path).toBe('p/19999');
  });

  it('refuses to be stringified whole by mistake', () => {
    expect(() => JSON.stringify({ list: new JsonList([1]) })).toThrow(/writeJson/);
  });
});
