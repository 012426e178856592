/**
 * A repository's contents as a comparable value: every key with the sha256 of its bytes.
 * Times that legitimately differ between two runs (importedAt, publishedAt, updatedAt) are
 * blanked; temp files and the lock are left out.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { readPublished } from '../../src/repo/published.js';
import type { Storage } from '../../src/repo/storage.js';

const TIMES = /"(importedAt|publishedAt|updatedAt|createdAt)": "[^"]*"/g;

export async function repoContents(storage: Storage): Promise<Record<string, string>> {
  const contents: Record<string, string> = {};
  for await (const key of storage.list('')) {
    if (key.startsWith('tmp/') || key.startsWith('locks/')) continue;
    let bytes = (await storage.readBuffer(key))!;
    if (key.endsWith('.json')) bytes = Buffer.from(bytes.toString().replace(TIMES, '"$1": "-"'));
    contents[key] = createHash('sha256').update(bytes).digest('hex');
  }
  return Object.fromEntries(Object.entries(contents).sort(([a], [b]) => a.localeCompare(b)));
}

/** Keys a failed import must not have created. */
export async function publishedKeys(storage: Storage): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of storage.list('')) {
    if (key === 'published.json' || key.startsWith('snapshots/') || key.startsWith('bundles/')) {
      keys.push(key);
    }
  }
  return keys.sort();
}

/**
 * What an import killed mid-way must leave, on any backend: none of the bundle's snapshots
 * published (unless it was killed after publishing, before its record), and a repository that
 * `check --deep` passes once it has a config at all.
 */
export async function expectValidAfterKill(
  storage: Storage,
  bundleId: string,
  killedAfterPublishing: boolean,
): Promise<void> {
  if (!killedAfterPublishing) {
    const published = await readPublished(storage);
    const ids = Object.values(published?.sources ?? {}).flatMap((s) =>
      Object.values(s.snapshots).map((x) => x.bundle),
    );
    expect(ids).not.toContain(bundleId);
  }
  if (await storage.stat('airlock-repository.json')) {
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true });
  }
}
