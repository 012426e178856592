/**
 * What a bundle's index says must add up, checked once in the reader that both `verify` and
 * `import` use, before any blob is read: each snapshot record matches the manifest's list and
 * the sizes of its entries; one sha256 has one size across entries and blob records; and every
 * blob an entry references is carried by the bundle or, in a delta, left to the parent chain
 * (the importer checks those against the repository). A full bundle carries every blob it
 * references (docs/bundle-format.md), so one that does not is refused here.
 */
import { IntegrityError } from '../errors.js';
import { BlobNeeds, type Need, type NeededBlob } from './blob-needs.js';
import type { BlobRecord, EntryRecord, IndexRecord, SnapshotRecord } from './index-records.js';
import type { BundleManifest } from './manifest.js';

export class IndexContent {
  private readonly needs: BlobNeeds;
  private current: { record: SnapshotRecord; entries: number; bytes: number } | undefined;

  constructor(
    private readonly manifest: BundleManifest,
    scratchDir?: string,
  ) {
    this.needs = new BlobNeeds(scratchDir);
  }

  /** Each record after IndexSequence accepted it (so the order and counts are already right). */
  add(record: IndexRecord): void {
    switch (record.type) {
      case 'snapshot':
        this.closeSnapshot();
        this.checkListed(record);
        this.current = { record, entries: 0, bytes: 0 };
        return;
      case 'entry':
        return this.addEntry(record);
      case 'blob':
        this.closeSnapshot();
        return this.addBlob(record);
      default:
        return;
    }
  }

  /** After the last record: a full bundle must carry every blob its entries reference. */
  finish(): void {
    this.closeSnapshot();
    if (!this.manifest.full) return;
    const missing = this.needs.firstMissing(); // nothing is marked stored yet: the first uncarried
    if (missing) {
      throw new IntegrityError(
        `the bundle's index references blob ${missing.sha256} (${missing.path}), which this full bundle does not carry`,
        {
          code: 'EMISSING',
          hint: 'the bundle is corrupt or was tampered with: do not import it; make it again on the connected side',
        },
      );
    }
  }

  /** How many referenced blobs a delta leaves to its parent chain. */
  uncarriedCount(): number {
    return this.needs.uncarriedCount();
  }

  /** Those blobs, in the order of their first reference (for when the count is small). */
  uncarried(): NeededBlob[] {
    return this.needs.uncarried();
  }

  /** The repository holds this blob: it no longer counts as missing. */
  markStored(sha256: string): void {
    this.needs.markStored(sha256);
  }

  /** The first referenced blob neither carried nor marked stored. */
  firstMissing(): NeededBlob | undefined {
    return this.needs.firstMissing();
  }

  close(): void {
    this.needs.close();
  }

  private checkListed(record: SnapshotRecord): void {
    const listed = this.manifest.snapshots.find(
      (s) => s.source === record.source && s.snapshot === record.snapshot,
    );
    if (listed?.type !== record.sourceType) {
      throw new IntegrityError(
        `bundle index: snapshot ${record.source}/${record.snapshot} (${record.sourceType}) does not match the manifest's snapshot list`,
        { code: 'EINDEX', hint: 'the bundle is corrupt: make it again on the connected side' },
      );
    }
  }

  private addEntry(record: EntryRecord): void {
    const need = this.needs.need(record.sha256, record.size, record.path);
    if (need && need.size !== record.size)
      throw sizeMismatch(record.sha256, need, record.size, record.path);
    this.current!.entries += 1;
    this.current!.bytes += record.size;
  }

  private addBlob(record: BlobRecord): void {
    const need = this.needs.carry(record.sha256, record.size);
    if (need && need.size !== record.size) {
      throw sizeMismatch(record.sha256, need, record.size, 'the blob record');
    }
  }

  private closeSnapshot(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    if (c.entries !== c.record.entries || c.bytes !== c.record.bytes) {
      throw new IntegrityError(
        `bundle index: snapshot ${c.record.source}/${c.record.snapshot} has ${c.entries} entries of ${c.bytes} bytes, its record says ${c.record.entries} of ${c.record.bytes}`,
        { code: 'ESIZE', hint: 'the bundle is corrupt: make it again on the connected side' },
      );
    }
  }
}

function sizeMismatch(sha: string, need: Need, other: number, where: string): IntegrityError {
  return new IntegrityError(
    `sizes disagree for blob ${sha}: ${need.path} says ${need.size} bytes, ${where} ${other}`,
    { code: 'ESIZE', hint: 'the bundle is corrupt or was tampered with; nothing was published' },
  );
}
