/**
 * Writes index.ndjson, the bundle's first tar entry, to a file beside the parts so that its
 * size and sha256 are known before the tar stream (whose length depends on it) starts.
 */
import type { BundleRecord, EntryRecord, SnapshotRecord } from './index-records.js';
import type { BundlePlan } from './bundle-plan.js';
import { TextFileWriter } from './text-file-writer.js';
import type { BundleWorkspace } from './workspace-view.js';

export async function writeIndexFile(
  path: string,
  ws: BundleWorkspace,
  plan: BundlePlan,
  bundle: BundleRecord,
): Promise<{ size: number; sha256: string }> {
  const out = await TextFileWriter.create(path);
  try {
    await out.line(JSON.stringify(bundle));
    for (const s of plan.snapshots) {
      const { complete, entries, bytes, createdAt, type, ...descriptor } = s.info;
      const record: SnapshotRecord = {
        type: 'snapshot',
        ...descriptor,
        sourceType: type,
        entries: s.entries,
        bytes: s.bytes,
      };
      await out.line(JSON.stringify(record));
      for (const entry of ws.entries(s.info)) {
        const line: EntryRecord = {
          type: 'entry',
          source: s.info.source,
          snapshot: s.info.snapshot,
          ...entry,
        };
        await out.line(JSON.stringify(line));
      }
    }
    for (const [sha256, size] of plan.blobs) {
      await out.line(JSON.stringify({ type: 'blob', sha256, size }));
    }
    // A temporary file: the part it is copied into is what gets fsynced.
    return await out.finish({ durable: false });
  } catch (err) {
    await out.close();
    throw err;
  }
}
