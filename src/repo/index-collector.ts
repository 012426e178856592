/**
 * Turns a bundle's index records, as the reader hands them over, into snapshot documents (each
 * written to a local file while hashed) and the set of blobs the snapshots need. Checked here,
 * before any blob is stored: entries agree with their snapshot's counts, one sha256 has one
 * size, and every blob the index references is carried by the bundle or already stored.
 */
import type {
  BlobRecord,
  EntryRecord,
  IndexRecord,
  SnapshotRecord,
} from '../bundle/index-records.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { IntegrityError } from '../errors.js';
import type { SnapshotDescriptor, SnapshotEntry } from '../model.js';
import { Fields } from './document-json.js';
import { blobKey, BLOBS_PREFIX, sha256OfBlobKey } from './layout.js';
import { parseEntry } from './snapshot-entry.js';
import { SnapshotDocumentBuilder, type BuiltSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

interface Need {
  size: number;
  path: string;
}

// Past this many blobs to look up, one listing of blobs/ beats a request per blob on S3.
const LIST_INSTEAD_OF_STAT = 500;
// A listing proves a blob exists, not its size; `airlock check` compares sizes.
const UNKNOWN_SIZE = -1;

export class IndexCollector {
  readonly documents: BuiltSnapshotDocument[] = [];
  private readonly needs = new Map<string, Need>();
  private readonly carried = new Map<string, number>();
  private current: { record: SnapshotRecord; builder: SnapshotDocumentBuilder } | undefined;

  constructor(
    private readonly manifest: BundleManifest,
    private readonly tempDir: string,
  ) {}

  async add(record: IndexRecord): Promise<void> {
    switch (record.type) {
      case 'snapshot':
        await this.finishSnapshot();
        this.current = {
          record,
          builder: SnapshotDocumentBuilder.inDirectory(
            this.tempDir,
            { descriptor: this.descriptorOf(record), entries: record.entries, bytes: record.bytes },
            this.documents.length,
          ),
        };
        return;
      case 'entry':
        return this.addEntry(record);
      case 'blob':
        return this.addBlob(record);
      default:
        return;
    }
  }

  /** After the last index record: documents complete, every needed blob accounted for. */
  async finish(storage: Storage): Promise<void> {
    await this.finishSnapshot();
    const uncarried = [...this.needs.keys()].filter((sha) => !this.carried.has(sha));
    const stored = await storedSizes(storage, uncarried);
    for (const sha of uncarried) {
      const need = this.needs.get(sha)!;
      const size = stored.get(sha);
      if (size === undefined) {
        throw new IntegrityError(
          `the bundle's index references blob ${sha} (${need.path}), which the bundle does not carry and ${storage.location} does not have`,
          {
            code: 'EMISSING',
            hint: 'import the bundle that carried it first (the parent chain), or make a full bundle; nothing was published',
          },
        );
      }
      if (size !== UNKNOWN_SIZE && size !== need.size)
        throw sizeMismatch(sha, need, size, `${storage.location} holds`);
    }
  }

  /** The size the index promised for a carried blob, or undefined for a blob it never listed. */
  carriedSize(sha256: string): number | undefined {
    return this.carried.get(sha256);
  }

  private async addEntry(record: EntryRecord): Promise<void> {
    const current = this.current;
    if (
      !current ||
      record.source !== current.record.source ||
      record.snapshot !== current.record.snapshot
    ) {
      throw new IntegrityError(
        `bundle index: entry ${record.source}/${record.snapshot} ${record.path} is not under its snapshot record`,
        { code: 'EINDEX', hint: 'the bundle is corrupt: make it again on the connected side' },
      );
    }
    const entry: SnapshotEntry = parseEntry(
      new Fields('index.ndjson', this.manifest.name),
      record as unknown as Record<string, unknown>,
    );
    const need = this.needs.get(entry.sha256);
    if (need && need.size !== entry.size)
      throw sizeMismatch(entry.sha256, need, entry.size, entry.path);
    if (!need) this.needs.set(entry.sha256, { size: entry.size, path: entry.path });
    await current.builder.add(entry);
  }

  private addBlob(record: BlobRecord): void {
    const need = this.needs.get(record.sha256);
    if (need && need.size !== record.size) {
      throw sizeMismatch(record.sha256, need, record.size, 'the blob record');
    }
    this.carried.set(record.sha256, record.size);
  }

  private async finishSnapshot(): Promise<void> {
    if (!this.current) return;
    const { record, builder } = this.current;
    this.current = undefined;
    const built = await builder.finish();
    if (built.counted.entries !== record.entries || built.counted.bytes !== record.bytes) {
      throw new IntegrityError(
        `bundle index: snapshot ${record.source}/${record.snapshot} has ${built.counted.entries} entries of ${built.counted.bytes} bytes, its record says ${record.entries} of ${record.bytes}`,
        { code: 'ESIZE', hint: 'the bundle is corrupt: make it again on the connected side' },
      );
    }
    this.documents.push(built);
  }

  private descriptorOf(record: SnapshotRecord): SnapshotDescriptor {
    const listed = this.manifest.snapshots.find(
      (s) => s.source === record.source && s.snapshot === record.snapshot,
    );
    if (listed?.type !== record.sourceType) {
      throw new IntegrityError(
        `bundle index: snapshot ${record.source}/${record.snapshot} (${record.sourceType}) does not match the manifest's snapshot list`,
        { code: 'EINDEX', hint: 'the bundle is corrupt: make it again on the connected side' },
      );
    }
    return {
      source: record.source,
      snapshot: record.snapshot,
      type: record.sourceType,
      requested: record.requested,
      servedTemplate: record.servedTemplate,
      ...(record.distribution === undefined ? {} : { distribution: record.distribution }),
      variants: record.variants,
    };
  }
}

async function storedSizes(storage: Storage, shas: string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (shas.length > LIST_INSTEAD_OF_STAT) {
    const wanted = new Set(shas);
    for await (const key of storage.list(BLOBS_PREFIX)) {
      const sha = sha256OfBlobKey(key);
      if (sha && wanted.has(sha)) sizes.set(sha, UNKNOWN_SIZE);
    }
    return sizes;
  }
  for (const sha of shas) {
    const info = await storage.stat(blobKey(sha));
    if (info) sizes.set(sha, info.size);
  }
  return sizes;
}

function sizeMismatch(sha: string, need: Need, other: number, where: string): IntegrityError {
  return new IntegrityError(
    `sizes disagree for blob ${sha}: ${need.path} says ${need.size} bytes, ${where} ${other}`,
    { code: 'ESIZE', hint: 'the bundle is corrupt or was tampered with; nothing was published' },
  );
}
