/**
 * A manifest with one bad part names that part only (issue 19, bug 13): a bad name or offset
 * in part 2 used to stop the running offset, so every later part was reported malformed too.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleSummary } from '../../src/bundle/events.js';
import { parseManifest } from '../../src/bundle/manifest.js';
import { writeBundle } from '../../src/bundle/write.js';
import { addFirstSnapshot, makeFixture, type Fixture } from './bundle-fixture.js';

let fx: Fixture;
let summary: BundleSummary;
let original: Record<string, unknown> & { parts: Array<Record<string, unknown>> };
beforeAll(async () => {
  fx = await makeFixture();
  await addFirstSnapshot(fx.ws);
  const result = await writeBundle({
    workspace: fx.ws,
    outDir: fx.out,
    maxPartSize: 64 * 1024,
    airlockVersion: 't',
  });
  if ('nothingNew' in result) throw new Error(result.reason);
  summary = result;
  original = JSON.parse(await readFile(summary.manifestPath, 'utf8')) as typeof original;
  expect(original.parts.length).toBeGreaterThanOrEqual(4);
});
afterAll(() => fx.cleanup());

function problemsWith(edit: (parts: Array<Record<string, unknown>>) => void): string {
  const copy = structuredClone(original);
  edit(copy.parts);
  try {
    parseManifest(Buffer.from(JSON.stringify(copy)), 'M.manifest.json');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the edited manifest was accepted');
}

describe('a manifest with one bad part', () => {
  it('names only the part whose name is bad, and says what is wrong with it', () => {
    const message = problemsWith((parts) => (parts[1]!.name = '../evil.part002'));
    expect(message).toContain('part 2');
    expect(message).toContain('../evil.part002');
    for (const later of [3, 4]) expect(message).not.toContain(`part ${later}`);
  });

  it('names only the part whose offset is wrong', () => {
    const message = problemsWith((parts) => (parts[1]!.offset = 1));
    expect(message).toContain('part 2');
    expect(message).toContain('offset');
    for (const later of [3, 4]) expect(message).not.toContain(`part ${later}`);
  });

  it('names only the part whose size is not a count', () => {
    const message = problemsWith((parts) => (parts[1]!.size = 'big'));
    expect(message).toContain('part 2');
    for (const later of [3, 4]) expect(message).not.toContain(`part ${later}`);
  });
});
