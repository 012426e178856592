/**
 * An in-memory BundleWorkspace over real blob files in a temp directory: what the bundle tests
 * write bundles from. `describe()` gives a JSON form a child process can load (interrupt test).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotEntry, SnapshotRef, SourceType } from '../../src/model.js';
import type {
  BundleInfo,
  BundleWorkspace,
  WorkspaceSnapshotInfo,
} from '../../src/bundle/workspace-view.js';

export interface FileSpec {
  path: string;
  bytes: Buffer;
  package?: string;
  version?: string;
  role?: SnapshotEntry['role'];
}

export class MemoryBundleWorkspace implements BundleWorkspace {
  readonly snapshots: WorkspaceSnapshotInfo[] = [];
  readonly entryLists = new Map<string, SnapshotEntry[]>();
  readonly bundles: { info: BundleInfo; blobs: string[] }[] = [];

  constructor(readonly root: string) {}

  /** Stores the files as blobs and records a complete snapshot of them. */
  async addSnapshot(
    ref: SnapshotRef,
    files: FileSpec[],
    type: SourceType = 'cran',
    complete = true,
  ): Promise<SnapshotEntry[]> {
    const entries: SnapshotEntry[] = [];
    for (const f of files) {
      const sha256 = createHash('sha256').update(f.bytes).digest('hex');
      await mkdir(join(this.root, 'blobs', sha256.slice(0, 2)), { recursive: true });
      await writeFile(this.blobPath(sha256), f.bytes);
      entries.push({
        path: f.path,
        variant: '',
        role: f.role ?? 'package',
        sha256,
        size: f.bytes.length,
        ...(f.package === undefined ? {} : { package: f.package }),
        ...(f.version === undefined ? {} : { version: f.version }),
        provenance: {
          url: `https://upstream.example/${ref.source}/${ref.snapshot}/${f.path}`,
          fetchedAt: '2026-11-01T10:00:00.000Z',
        },
      });
    }
    entries.sort((a, b) => a.path.localeCompare(b.path));
    this.entryLists.set(key(ref), entries);
    this.snapshots.push({
      ...ref,
      type,
      requested: ref.snapshot,
      servedTemplate: `${ref.source}/{snapshot}`,
      variants: [''],
      complete,
      entries: entries.length,
      bytes: entries.reduce((n, e) => n + e.size, 0),
      createdAt: '2026-11-01T10:00:00.000Z',
    });
    return entries;
  }

  listSnapshots(): WorkspaceSnapshotInfo[] {
    return [...this.snapshots];
  }
  entries(ref: SnapshotRef): Iterable<SnapshotEntry> {
    return this.entryLists.get(key(ref)) ?? [];
  }
  blobPath(sha256: string): string {
    return join(this.root, 'blobs', sha256.slice(0, 2), sha256);
  }
  lastBundle(): BundleInfo | undefined {
    return this.bundles.at(-1)?.info;
  }
  getBundle(id: string): BundleInfo | undefined {
    return this.bundles.find((b) => b.info.id === id)?.info;
  }
  bundleBlobs(id: string): Iterable<string> {
    return this.bundles.find((b) => b.info.id === id)?.blobs ?? [];
  }
  recordBundle(info: BundleInfo, blobs: Iterable<string>): void {
    this.bundles.push({ info, blobs: [...blobs] });
  }

  /** Everything but the blob files, as JSON a child process can rebuild the workspace from. */
  describe(): string {
    return JSON.stringify({
      root: this.root,
      snapshots: this.snapshots,
      entries: [...this.entryLists],
    });
  }
}

function key(ref: SnapshotRef): string {
  return `${ref.source}/${ref.snapshot}`;
}

/** Random bytes: incompressible, and every file distinct. */
export function randomFile(size: number): Buffer {
  return randomBytes(size);
}
