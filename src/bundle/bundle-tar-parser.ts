/**
 * A strict, streaming parser of a bundle's tar stream. It is fed the parts' bytes in order
 * (by readBundle, which hashes the parts in the same pass) and hands the index records and
 * the blobs' bytes to the caller's handlers, checking every rule of docs/bundle-format.md:
 * index first, then exactly the blobs the index lists, in its order, each at its size and
 * sha256, then two zero blocks and nothing after them.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { BlobBody, ConsumerCall } from './blob-body.js';
import type { BlobList } from './blob-list.js';
import type { IndexContent } from './index-content.js';
import type { BlobRecord, IndexRecord } from './index-records.js';
import { IndexSequence, parseIndexLine } from './index-validate.js';
import type { BundleManifest } from './manifest.js';
import { BLOCK, decodeHeader, isZeroBlock, paddedSize, parsePaxRecords } from './tar-header.js';
import { ALLOWED_PAX_KEYS, BLOB_ENTRY, checkEntryHeader, unsafe } from './tar-entry-rules.js';

export interface BundleReadHandlers {
  /** Each index record, in order, before any blob. Trust them only once onIndexEnd is called. */
  onRecord?(record: IndexRecord): void | Promise<void>;
  /**
   * After the last record, once the index matched the manifest's sha256 and its content added
   * up (IndexContent), before any blob. `content` answers which referenced blobs a delta
   * leaves to its parent chain.
   */
  onIndexEnd?(content: IndexContent): void | Promise<void>;
  /** Must consume `body` fully; it errors instead of ending when the blob's bytes are wrong. */
  onBlob(record: BlobRecord, body: Readable): Promise<void>;
  onProgress?(bytesRead: number, totalBytes: number): void;
}
type State = 'header' | 'pax' | 'index' | 'blob' | 'padding' | 'end' | 'done';
const MAX_PAX = 8 * BLOCK;
const MAX_LINE = 4 * 1024 * 1024;
/** Padding is shorter than a block: compared with this in one call, not byte by byte. */
const ZERO_BLOCK = Buffer.alloc(BLOCK);

export class BundleTarParser {
  private state: State = 'header';
  private offset = 0;
  private readonly block = Buffer.alloc(BLOCK);
  private filled = 0;
  private remaining = 0;
  private paxBuffer: Buffer | undefined;
  private paxSize: number | undefined;
  private paxPath: string | undefined;
  private dataSize = 0;
  private afterData: () => Promise<void> | void = () => undefined;
  // index.ndjson
  private indexDone = false;
  private readonly indexHash = createHash('sha256');
  private lineParts: Buffer[] = [];
  private lineLength = 0;
  private lineNo = 0;
  private pendingLines: string[] = [];
  private readonly sequence: IndexSequence;
  // current blob
  private blobIndex = 0;
  private blobBytes = 0;
  private blobHash: Hash | undefined;
  private body: BlobBody | undefined;
  private consumer: ConsumerCall | undefined;

  /**
   * `blobs` receives the index's blob records (empty when given): the tar is checked against
   * it. `content` checks what the records say against each other.
   */
  constructor(
    private readonly manifest: BundleManifest,
    private readonly handlers: BundleReadHandlers,
    blobs: BlobList,
    private readonly content: IndexContent,
  ) {
    this.sequence = new IndexSequence(manifest, blobs);
  }

  async feed(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'header' || this.state === 'end') at = await this.takeBlock(chunk, at);
      else if (this.state === 'done')
        throw unsafe('data after the end of the archive', this.offset);
      else at = await this.takeData(chunk, at);
    }
  }

  /** After the last byte: the archive must have ended, with every listed blob seen. */
  end(): { blobs: number; bytes: number; records: number } {
    if (this.state !== 'done')
      throw unsafe('the tar stream ends before its end-of-archive blocks', this.offset);
    if (this.blobIndex !== this.sequence.blobs.length) {
      throw unsafe(
        `the index lists ${this.sequence.blobs.length} blobs but the tar holds ${this.blobIndex}`,
        this.offset,
      );
    }
    return { blobs: this.blobIndex, bytes: this.blobBytes, records: this.sequence.records };
  }

  /** After a failure: the open blob's consumer sees `err` instead of an end. */
  async abort(err: unknown): Promise<void> {
    this.body?.destroy(err instanceof Error ? err : new Error(String(err)));
    await this.consumer?.settled;
    this.body = undefined;
  }

  private async takeBlock(chunk: Buffer, at: number): Promise<number> {
    const n = Math.min(BLOCK - this.filled, chunk.length - at);
    chunk.copy(this.block, this.filled, at, at + n);
    this.filled += n;
    if (this.filled === BLOCK) {
      this.filled = 0;
      const start = this.offset;
      this.offset += BLOCK;
      if (this.state === 'end') {
        if (!isZeroBlock(this.block)) throw unsafe('data after an end-of-archive block', start);
        this.state = 'done';
      } else await this.onHeader(start);
    }
    return at + n;
  }

  private async takeData(chunk: Buffer, at: number): Promise<number> {
    const n = Math.min(this.remaining, chunk.length - at);
    const slice = chunk.subarray(at, at + n);
    this.remaining -= n;
    this.offset += n;
    if (this.state === 'padding') {
      if (!slice.equals(ZERO_BLOCK.subarray(0, n)))
        throw unsafe('non-zero bytes in the padding of an entry', this.offset - n);
    } else if (this.state === 'pax')
      slice.copy(this.paxBuffer!, this.paxBuffer!.length - this.remaining - n);
    else if (this.state === 'index') {
      this.indexData(slice);
      await this.flushLines();
    } else await this.blobData(slice);
    if (this.remaining === 0) await this.dataEnded();
    return at + n;
  }

  private async onHeader(start: number): Promise<void> {
    if (isZeroBlock(this.block)) {
      if (!this.indexDone) throw unsafe('the archive ends before index.ndjson', start);
      if (this.paxSize !== undefined || this.paxPath !== undefined)
        throw unsafe('a pax header without its entry', start);
      this.state = 'end';
      return;
    }
    const h = decodeHeader(this.block);
    if (typeof h === 'string') throw unsafe(`${h}: the tar stream is corrupt`, start);
    if (h.typeflag === 'x' && h.magic === 'ustar\u000000') return this.beginPax(h.size, start);
    const name = this.paxPath ?? h.name;
    checkEntryHeader(h, name, start);
    const size = this.paxSize ?? h.size;
    this.paxSize = undefined;
    this.paxPath = undefined;
    if (!this.indexDone) return this.beginIndex(name, size, start);
    return this.beginBlob(name, size, start);
  }

  private async beginPax(size: number, start: number): Promise<void> {
    if (this.paxBuffer !== undefined || this.paxSize !== undefined)
      throw unsafe('two pax headers in a row', start);
    if (size === 0 || size > MAX_PAX) throw unsafe(`a pax header of ${size} bytes`, start);
    this.paxBuffer = Buffer.alloc(size);
    await this.startData('pax', size, () => {
      const records = parsePaxRecords(this.paxBuffer!);
      this.paxBuffer = undefined;
      if (!records) throw unsafe('a malformed pax header', start);
      for (const key of records.keys()) {
        if (!ALLOWED_PAX_KEYS.has(key))
          throw unsafe(`pax header key ${JSON.stringify(key)} (only size, path, mtime)`, start);
      }
      const size = records.get('size');
      if (size !== undefined) {
        if (!/^\d{1,16}$/.test(size)) throw unsafe(`pax size ${JSON.stringify(size)}`, start);
        this.paxSize = Number(size);
      }
      this.paxPath = records.get('path');
    });
  }

  private async beginIndex(name: string, size: number, start: number): Promise<void> {
    if (name !== 'index.ndjson')
      throw unsafe(`the first entry is ${JSON.stringify(name)}, not index.ndjson`, start);
    if (size !== this.manifest.index.size) {
      throw new IntegrityError(
        `index.ndjson is ${size} bytes but the manifest says ${this.manifest.index.size}`,
        {
          hint: 'the bundle was altered: do not import it; copy it again or ask for a new bundle',
        },
      );
    }
    await this.startData('index', size, () => this.indexEnded());
  }

  private async beginBlob(name: string, size: number, start: number): Promise<void> {
    const match = BLOB_ENTRY.exec(name);
    if (!match)
      throw unsafe(
        `entry ${JSON.stringify(name)} is neither index.ndjson nor blobs/<sha256>`,
        start,
      );
    const expected = this.sequence.blobs.at(this.blobIndex);
    if (!expected || expected.sha256 !== match[1]) {
      const listed = this.sequence.blobs.has(match[1]!);
      throw unsafe(
        `entry ${name} is ${listed ? 'out of the index order' : 'not listed in the index'}`,
        start,
      );
    }
    if (size !== expected.size)
      throw unsafe(`entry ${name} is ${size} bytes but the index says ${expected.size}`, start);
    this.blobIndex += 1;
    this.blobHash = createHash('sha256');
    this.body = new BlobBody();
    this.consumer = new ConsumerCall(this.handlers.onBlob(expected, this.body));
    await this.startData('blob', size, () => this.blobEnded(expected));
  }

  private async startData(
    state: State,
    size: number,
    then: () => Promise<void> | void,
  ): Promise<void> {
    this.state = state;
    this.remaining = size;
    this.dataSize = size;
    this.afterData = then;
    if (size === 0) await this.dataEnded();
  }

  private async dataEnded(): Promise<void> {
    if (this.state === 'padding') {
      this.state = 'header';
      return;
    }
    await this.afterData();
    const padding = paddedSize(this.dataSize) - this.dataSize;
    this.state = padding > 0 ? 'padding' : 'header';
    this.remaining = padding;
  }

  private indexData(slice: Buffer): void {
    this.indexHash.update(slice);
    let from = 0;
    for (let nl = slice.indexOf(0x0a); nl >= 0; nl = slice.indexOf(0x0a, from)) {
      const tail = slice.subarray(from, nl);
      const line = this.lineParts.length === 0 ? tail : Buffer.concat([...this.lineParts, tail]);
      this.pendingLines.push(line.toString('utf8'));
      this.lineParts = [];
      this.lineLength = 0;
      from = nl + 1;
    }
    if (from < slice.length) {
      this.lineParts.push(slice.subarray(from));
      this.lineLength += slice.length - from;
      if (this.lineLength > MAX_LINE)
        throw unsafe(
          `index.ndjson line ${this.lineNo + 1} is longer than ${MAX_LINE} bytes`,
          this.offset,
        );
    }
  }

  /** Index lines are parsed and handed over between chunks, so handlers may be async. */
  private async flushLines(): Promise<void> {
    const lines = this.pendingLines;
    this.pendingLines = [];
    for (const line of lines) {
      this.lineNo += 1;
      const record = parseIndexLine(line, this.lineNo);
      this.sequence.accept(record, this.lineNo);
      this.content.add(record);
      await this.handlers.onRecord?.(record);
    }
  }

  private async indexEnded(): Promise<void> {
    await this.flushLines();
    if (this.lineLength > 0) throw unsafe('index.ndjson does not end with a newline', this.offset);
    const sha256 = this.indexHash.digest('hex');
    if (sha256 !== this.manifest.index.sha256) {
      throw new IntegrityError('index.ndjson does not match the sha256 the manifest gives for it', {
        hint: 'the bundle was altered after it was made: do not import it; copy it again or ask for a new bundle',
      });
    }
    this.sequence.finish(this.lineNo);
    this.content.finish();
    this.indexDone = true;
    await this.handlers.onIndexEnd?.(this.content);
  }

  private async blobData(slice: Buffer): Promise<void> {
    this.blobHash!.update(slice);
    if (this.body!.push(slice)) return;
    const consumer = this.consumer!;
    await Promise.race([this.body!.waitForDemand(), consumer.settled]);
    if (consumer.state !== 'pending') this.consumerEndedEarly(consumer);
  }

  private async blobEnded(record: BlobRecord): Promise<void> {
    const sha256 = this.blobHash!.digest('hex');
    if (sha256 !== record.sha256) {
      throw new IntegrityError(
        `entry blobs/${record.sha256} does not match its sha256 (its bytes hash to ${sha256})`,
        {
          code: 'EBLOB',
          hint: 'the bundle was altered before its manifest was written, or made from a damaged workspace: ask for a new bundle',
        },
      );
    }
    this.blobBytes += record.size;
    const consumer = this.consumer!;
    this.body!.push(null);
    await consumer.settled;
    this.body = undefined;
    this.consumer = undefined;
    if (consumer.state === 'rejected') throw consumer.error;
  }

  private consumerEndedEarly(consumer: ConsumerCall): never {
    if (consumer.state === 'rejected') throw consumer.error;
    throw new Error(
      'onBlob returned before consuming its body: a reader must consume every blob fully',
    );
  }
}
