/**
 * Wheels whose METADATA cannot be read are carried with a note; past a handful the notes are
 * counted, not listed (an index of broken wheels must not become a 200,000-line report).
 * The fixture's bulk wheels are seeded noise, not zips: every one of them is unreadable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import { configDir, names, planJson, PYPI } from './plan-harness.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream({ scale: { smallFiles: 25, smallMin: 100, smallMax: 200 } });
}, 120_000);
afterAll(async () => {
  await t.close();
});

describe('distributions with unreadable metadata', () => {
  it('are all carried, the first 20 named in the notes and the rest counted', async () => {
    const dir = configDir(t, '', [PYPI('    packages: [bulk]\n    versions: all\n')]);
    const json = await planJson(dir);
    const source = json.sources.find((s) => s.source === 'pypi')!;
    expect(names(source).filter((n) => n.startsWith('bulk-'))).toHaveLength(25);
    const named = source.notes.filter((n) => n.includes('its dependencies are not followed'));
    expect(named).toHaveLength(20);
    expect(named[0]).toMatch(/^bulk-1\.\d+-py3-none-any\.whl: carried, but/);
    expect(source.notes).toContain(
      '5 more distribution(s) with unreadable metadata: carried, but their dependencies are not followed',
    );
  });
});
