/**
 * A repository's contents as a comparable value: every key with the sha256 of its bytes.
 * Times that legitimately differ between two runs (importedAt, publishedAt, updatedAt) are
 * blanked; temp files and the lock are left out.
 */
import { createHash } from 'node:crypto';
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
