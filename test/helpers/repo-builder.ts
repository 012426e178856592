/**
 * Writes a repository directly in the documented layout (docs/architecture.md, "Repository"):
 * blobs, snapshot documents, then published.json last, the way an import leaves it. Lets
 * serve, status and check tests build exactly the repository they need without a bundle.
 */
import { createHash } from 'node:crypto';
import type { EntryRole, SnapshotDescriptor, SnapshotEntry, Variant } from '../../src/model.js';
import { blobKey, snapshotDocumentKey } from '../../src/repo/layout.js';
import { publishSnapshots } from '../../src/repo/publish.js';
import { headerLine } from '../../src/repo/snapshot-document.js';
import { entryLine } from '../../src/repo/snapshot-entry.js';
import type { Storage } from '../../src/repo/storage.js';

export interface BuilderFile {
  /** Relative to the snapshot root ('src/contrib/PACKAGES', 'alpha/', 'alpha/alpha-1.0-py3-none-any.whl'). */
  path: string;
  variant?: Variant;
  role: EntryRole;
  bytes: Buffer | string;
  package?: string;
  version?: string;
}

export interface BuilderSnapshot {
  descriptor: SnapshotDescriptor;
  files: BuilderFile[];
}

export interface BuiltSnapshot {
  source: string;
  snapshot: string;
  /** sha256 of the snapshot document. */
  document: string;
  entries: SnapshotEntry[];
}

let bundles = 0;

/** Stores the snapshots and publishes them in one published.json write (one "import"). */
export async function buildRepository(
  storage: Storage,
  snapshots: BuilderSnapshot[],
  options: { bundleId?: string; now?: Date } = {},
): Promise<BuiltSnapshot[]> {
  const built: BuiltSnapshot[] = [];
  for (const { descriptor, files } of snapshots) {
    const entries: SnapshotEntry[] = [];
    for (const file of files) {
      const bytes = Buffer.isBuffer(file.bytes) ? file.bytes : Buffer.from(file.bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await storage.write(blobKey(sha256), bytes);
      entries.push({
        path: file.path,
        variant: file.variant ?? '',
        role: file.role,
        sha256,
        size: bytes.length,
        ...(file.package === undefined ? {} : { package: file.package }),
        ...(file.version === undefined ? {} : { version: file.version }),
        provenance: { fetchedAt: new Date(0).toISOString() },
      });
    }
    entries.sort((a, b) => compare(a.path, b.path) || compare(a.variant, b.variant));
    const size = entries.reduce((n, e) => n + e.size, 0);
    const header = headerLine({ descriptor, entries: entries.length, bytes: size });
    const text = [header, ...entries.map(entryLine)].map((line) => `${line}\n`).join('');
    const document = createHash('sha256').update(text).digest('hex');
    await storage.write(snapshotDocumentKey(document), text);
    built.push({ source: descriptor.source, snapshot: descriptor.snapshot, document, entries });
  }
  bundles += 1;
  await publishSnapshots(
    storage,
    options.bundleId ?? `test-bundle-${process.pid}-${bundles}`,
    built.map((b, i) => ({
      descriptor: snapshots[i]!.descriptor,
      document: b.document,
      entries: b.entries.length,
      bytes: b.entries.reduce((n, e) => n + e.size, 0),
    })),
    options.now,
  );
  return built;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
