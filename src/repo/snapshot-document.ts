/**
 * snapshots/<sha256>.ndjson: one snapshot, immutable, named by the sha256 of its bytes.
 *   line 1: {"type":"snapshot","source","snapshot","sourceType","requested","servedTemplate",
 *            "distribution"?,"variants","entries":N,"bytes":N}
 *   then one {"type":"entry","path","variant","role","sha256","size","package"?,"version"?,
 *            "provenance"} per line, in bundle index order (sorted by path, variant).
 * The reader re-hashes what it reads and checks the counts, so a damaged document is an
 * error, never a silently shorter snapshot.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { once } from 'node:events';
import type { SnapshotDescriptor, SnapshotEntry, SourceType, Variant } from '../model.js';
import { documentError, Fields, parseJsonObject, type Json } from './document-json.js';
import { snapshotDocumentKey } from './layout.js';
import { entryLine, parseEntry } from './snapshot-entry.js';
import type { Storage } from './storage.js';

export interface SnapshotHeader {
  descriptor: SnapshotDescriptor;
  /** Number of entry lines that follow. */
  entries: number;
  /** Sum of the entries' sizes. */
  bytes: number;
}

export interface OpenedSnapshotDocument {
  header: SnapshotHeader;
  /** The entries, streamed; iteration throws EDOCUMENT if the bytes or counts are wrong. */
  entries: AsyncIterable<SnapshotEntry>;
}

const SOURCE_TYPES: readonly string[] = ['cran', 'cran-binary', 'pypi'];

/** Opens a snapshot document for streaming (serve, check). */
export async function openSnapshotDocument(
  storage: Storage,
  sha256: string,
): Promise<OpenedSnapshotDocument> {
  const key = snapshotDocumentKey(sha256);
  const body = await storage.read(key);
  if (!body) throw documentError(key, storage.location, 'the document is missing');
  const lines = verifiedLines(body, key, storage.location, sha256);
  const first = await lines.next();
  if (first.done) throw documentError(key, storage.location, 'the document is empty');
  const f = new Fields(key, storage.location);
  const header = parseHeader(f, parseJsonObject(first.value, key, storage.location));
  return { header, entries: entriesOf(lines, header, f, key, storage.location) };
}

/** The whole document in memory (small snapshots, tests). */
export async function loadSnapshotDocument(
  storage: Storage,
  sha256: string,
): Promise<{ header: SnapshotHeader; entries: SnapshotEntry[] }> {
  const opened = await openSnapshotDocument(storage, sha256);
  const entries: SnapshotEntry[] = [];
  for await (const entry of opened.entries) entries.push(entry);
  return { header: opened.header, entries };
}

async function* entriesOf(
  lines: AsyncGenerator<string>,
  header: SnapshotHeader,
  f: Fields,
  key: string,
  location: string,
): AsyncGenerator<SnapshotEntry> {
  let count = 0;
  let bytes = 0;
  for await (const line of lines) {
    const obj = parseJsonObject(line, key, location);
    if (obj.type !== 'entry') f.fail(`line ${count + 2} is not an entry`);
    const entry = parseEntry(f, obj);
    count++;
    bytes += entry.size;
    yield entry;
  }
  if (count !== header.entries || bytes !== header.bytes) {
    f.fail(
      `holds ${count} entries of ${bytes} bytes, its header says ${header.entries} of ${header.bytes}`,
    );
  }
}

async function* verifiedLines(
  body: AsyncIterable<Buffer>,
  key: string,
  location: string,
  sha256: string,
): AsyncGenerator<string> {
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of body) {
    hash.update(chunk);
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line !== '') yield line;
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
  // Lines were handed out before the hash was known: the caller learns of damage at the end.
  if (hash.digest('hex') !== sha256)
    throw documentError(key, location, 'its sha256 does not match its name');
}

function parseHeader(f: Fields, obj: Json): SnapshotHeader {
  if (obj.type !== 'snapshot') f.fail('the first line is not the snapshot header');
  const sourceType = f.string(obj, 'sourceType');
  if (!SOURCE_TYPES.includes(sourceType)) f.fail(`unknown source type "${sourceType}"`);
  const distribution = f.optionalString(obj, 'distribution');
  const descriptor: SnapshotDescriptor = {
    source: f.string(obj, 'source'),
    snapshot: f.string(obj, 'snapshot'),
    type: sourceType as SourceType,
    requested: f.string(obj, 'requested'),
    servedTemplate: f.string(obj, 'servedTemplate'),
    ...(distribution === undefined ? {} : { distribution }),
    variants: f.stringArray(obj, 'variants') as Variant[],
  };
  return { descriptor, entries: f.count(obj, 'entries'), bytes: f.count(obj, 'bytes') };
}

/** The header as the document's first line, keys in a fixed order. */
export function headerLine(header: SnapshotHeader): string {
  const d = header.descriptor;
  return JSON.stringify({
    type: 'snapshot',
    source: d.source,
    snapshot: d.snapshot,
    sourceType: d.type,
    requested: d.requested,
    servedTemplate: d.servedTemplate,
    distribution: d.distribution,
    variants: d.variants,
    entries: header.entries,
    bytes: header.bytes,
  });
}

export interface BuiltSnapshotDocument {
  header: SnapshotHeader;
  sha256: string;
  /** Local file holding the document's bytes until it is stored. */
  file: string;
  size: number;
}

/**
 * Writes a snapshot document to a local file while hashing it, so a 200k-entry snapshot is
 * never held in memory and its name is known when the last entry is in.
 */
export class SnapshotDocumentBuilder {
  private readonly hash = createHash('sha256');
  private readonly out: WriteStream;
  private size = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    private readonly header: SnapshotHeader,
    readonly file: string,
  ) {
    this.out = createWriteStream(file, { flags: 'wx' });
    this.push(headerLine(header));
  }

  static inDirectory(dir: string, header: SnapshotHeader, n: number): SnapshotDocumentBuilder {
    return new SnapshotDocumentBuilder(header, join(dir, `snapshot-${n}.ndjson`));
  }

  async add(entry: SnapshotEntry): Promise<void> {
    this.count++;
    this.bytes += entry.size;
    if (!this.push(entryLine(entry))) await once(this.out, 'drain');
  }

  /** Closes the file; returns undefined-free counts for the caller to compare with the header. */
  async finish(): Promise<BuiltSnapshotDocument & { counted: { entries: number; bytes: number } }> {
    this.out.end();
    await once(this.out, 'finish');
    return {
      header: this.header,
      sha256: this.hash.digest('hex'),
      file: this.file,
      size: this.size,
      counted: { entries: this.count, bytes: this.bytes },
    };
  }

  private push(line: string): boolean {
    const bytes = Buffer.from(`${line}\n`);
    this.hash.update(bytes);
    this.size += bytes.length;
    return this.out.write(bytes);
  }
}
