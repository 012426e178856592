/**
 * Turns a bundle's index records, as the reader hands them over, into snapshot documents (each
 * written to a local file while hashed), and at the end of the index checks that every blob a
 * delta leaves to its parent chain is already stored. What the records must say to each other
 * (sizes, counts, blobs carried) is checked by the reader itself (IndexContent), the one code
 * path `verify` shares, before any of it reaches here.
 */
import type { IndexContent } from '../bundle/index-content.js';
import type { NeededBlob } from '../bundle/blob-needs.js';
import type { EntryRecord, IndexRecord, SnapshotRecord } from '../bundle/index-records.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { IntegrityError } from '../errors.js';
import type { SnapshotDescriptor, SnapshotEntry } from '../model.js';
import { Fields } from './document-json.js';
import { blobKey, BLOBS_PREFIX, sha256OfBlobKey } from './layout.js';
import { parseEntry } from './snapshot-entry.js';
import { SnapshotDocumentBuilder, type BuiltSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

// Past this many blobs to look up, one listing of blobs/ beats a request per blob on S3.
const LIST_INSTEAD_OF_STAT = 500;

export class IndexCollector {
  readonly documents: BuiltSnapshotDocument[] = [];
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
        return this.finishSnapshot();
      default:
        return;
    }
  }

  /** After the last index record: documents complete (a repair needs no more). */
  async finishDocuments(): Promise<void> {
    await this.finishSnapshot();
  }

  /** After the last index record: documents complete, every uncarried blob stored. */
  async finish(storage: Storage, content: IndexContent): Promise<void> {
    await this.finishSnapshot();
    if (content.uncarriedCount() > LIST_INSTEAD_OF_STAT) {
      // A listing proves a blob exists, not its size; `airlock check` compares sizes.
      for await (const key of storage.list(BLOBS_PREFIX)) {
        const sha = sha256OfBlobKey(key);
        if (sha) content.markStored(sha);
      }
      const missing = content.firstMissing();
      if (missing) throw missingError(missing, storage);
      return;
    }
    const uncarried = content.uncarried();
    const stored = new Map<string, number>();
    for (const { sha256 } of uncarried) {
      const info = await storage.stat(blobKey(sha256));
      if (info) stored.set(sha256, info.size);
    }
    for (const need of uncarried) {
      const size = stored.get(need.sha256);
      if (size === undefined) throw missingError(need, storage);
      if (size !== need.size) {
        throw new IntegrityError(
          `sizes disagree for blob ${need.sha256}: ${need.path} says ${need.size} bytes, ${storage.location} holds ${size}`,
          {
            code: 'ESIZE',
            hint: `the stored blob is damaged: run \`airlock check --repo ${storage.location}\` and repair it (README, "Repairing a repository"); nothing was published`,
          },
        );
      }
    }
  }

  private async addEntry(record: EntryRecord): Promise<void> {
    // The reader validated the record and its place under this snapshot (index-validate.ts).
    const entry: SnapshotEntry = parseEntry(
      new Fields('index.ndjson', this.manifest.name),
      record as unknown as Record<string, unknown>,
    );
    await this.current!.builder.add(entry);
  }

  private async finishSnapshot(): Promise<void> {
    if (!this.current) return;
    const { builder } = this.current;
    this.current = undefined;
    this.documents.push(await builder.finish());
  }

  private descriptorOf(record: SnapshotRecord): SnapshotDescriptor {
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

function missingError(need: NeededBlob, storage: Storage): IntegrityError {
  return new IntegrityError(
    `the bundle's index references blob ${need.sha256} (${need.path}), which the bundle does not carry and ${storage.location} does not have`,
    {
      code: 'EMISSING',
      hint: 'import the bundle that carried it first (the parent chain), or make a full bundle; if `airlock prune` deleted it here, carry a full bundle (bundle --full) and keep at least as many snapshots here as the workspace keeps (README, "Disk"); nothing was published',
    },
  );
}
