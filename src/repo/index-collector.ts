/**
 * Turns a bundle's index records, as the reader hands them over, into snapshot documents (each
 * written to a local file while hashed) and the set of blobs the snapshots need. Checked here,
 * before any blob is stored: entries agree with their snapshot's counts, one sha256 has one
 * size, and every blob the index references is carried by the bundle or already stored. What
 * it knows per blob lives in a scratch database in the import's temp dir (BlobNeeds), so its
 * memory does not grow with the bundle; close() releases it.
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
import { BlobNeeds, type Need } from './blob-needs.js';
import { Fields } from './document-json.js';
import { blobKey, BLOBS_PREFIX, sha256OfBlobKey } from './layout.js';
import { parseEntry } from './snapshot-entry.js';
import { SnapshotDocumentBuilder, type BuiltSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

// Past this many blobs to look up, one listing of blobs/ beats a request per blob on S3.
const LIST_INSTEAD_OF_STAT = 500;

export class IndexCollector {
  readonly documents: BuiltSnapshotDocument[] = [];
  private readonly needs: BlobNeeds;
  private current: { record: SnapshotRecord; builder: SnapshotDocumentBuilder } | undefined;

  constructor(
    private readonly manifest: BundleManifest,
    private readonly tempDir: string,
  ) {
    this.needs = new BlobNeeds(tempDir);
  }

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
    if (this.needs.uncarriedCount() > LIST_INSTEAD_OF_STAT) {
      // A listing proves a blob exists, not its size; `airlock check` compares sizes.
      for await (const key of storage.list(BLOBS_PREFIX)) {
        const sha = sha256OfBlobKey(key);
        if (sha) this.needs.markStored(sha);
      }
      const missing = this.needs.firstMissing();
      if (missing) throw missingError(missing.sha256, missing, storage);
      return;
    }
    const uncarried = this.needs.uncarried();
    const stored = new Map<string, number>();
    for (const { sha256 } of uncarried) {
      const info = await storage.stat(blobKey(sha256));
      if (info) stored.set(sha256, info.size);
    }
    for (const need of uncarried) {
      const size = stored.get(need.sha256);
      if (size === undefined) throw missingError(need.sha256, need, storage);
      if (size !== need.size)
        throw sizeMismatch(need.sha256, need, size, `${storage.location} holds`);
    }
  }

  /** The size the index promised for a carried blob, or undefined for a blob it never listed. */
  carriedSize(sha256: string): number | undefined {
    return this.needs.carriedSize(sha256);
  }

  /** Releases the scratch database (the caller removes the temp dir). */
  close(): void {
    this.needs.close();
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
    const need = this.needs.need(entry.sha256, entry.size, entry.path);
    if (need && need.size !== entry.size)
      throw sizeMismatch(entry.sha256, need, entry.size, entry.path);
    await current.builder.add(entry);
  }

  private addBlob(record: BlobRecord): void {
    const need = this.needs.carry(record.sha256, record.size);
    if (need && need.size !== record.size) {
      throw sizeMismatch(record.sha256, need, record.size, 'the blob record');
    }
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

function missingError(sha: string, need: Need, storage: Storage): IntegrityError {
  return new IntegrityError(
    `the bundle's index references blob ${sha} (${need.path}), which the bundle does not carry and ${storage.location} does not have`,
    {
      code: 'EMISSING',
      hint: 'import the bundle that carried it first (the parent chain), or make a full bundle; if `airlock prune` deleted it here, carry a full bundle (bundle --full) and keep at least as many snapshots here as the workspace keeps (README, "Disk"); nothing was published',
    },
  );
}

function sizeMismatch(sha: string, need: Need, other: number, where: string): IntegrityError {
  return new IntegrityError(
    `sizes disagree for blob ${sha}: ${need.path} says ${need.size} bytes, ${where} ${other}`,
    { code: 'ESIZE', hint: 'the bundle is corrupt or was tampered with; nothing was published' },
  );
}
