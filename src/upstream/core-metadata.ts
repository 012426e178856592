/**
 * Python core metadata (METADATA, PKG-INFO, PEP 658 `.metadata` files): the headers that
 * dependency resolution needs, and reading METADATA out of a wheel on disk when the index
 * offers no PEP 658 metadata file.
 */
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { IntegrityError } from '../errors.js';

export interface DistributionMetadata {
  name: string;
  version: string;
  requiresDist: string[];
  requiresPython?: string;
  providesExtra: string[];
}

/**
 * Parses the RFC 822-style header block. Continuation lines start with whitespace; the
 * headers end at the first empty line (Metadata 2.1+ puts the description in the body).
 */
export function parseCoreMetadata(text: string): DistributionMetadata {
  const headers = new Map<string, string[]>();
  let last: { values: string[]; index: number } | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && last) {
      last.values[last.index] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(key, values);
    last = { values, index: values.length - 1 };
  }
  const one = (key: string) => headers.get(key)?.[0];
  const metadata: DistributionMetadata = {
    name: one('name') ?? '',
    version: one('version') ?? '',
    requiresDist: (headers.get('requires-dist') ?? []).map((v) => v.replace(/\n/g, ' ')),
    providesExtra: headers.get('provides-extra') ?? [],
  };
  const requiresPython = one('requires-python');
  if (requiresPython !== undefined && requiresPython !== '')
    metadata.requiresPython = requiresPython;
  return metadata;
}

const EOCD_BYTES = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
// The end-of-central-directory record is 22 bytes plus a comment of at most 65535 bytes.
const EOCD_SEARCH = 22 + 0xffff;
/** METADATA embeds the long description: megabytes at most in practice; more is a zip bomb. */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

/**
 * Reads `<name>.dist-info/METADATA` from a wheel (a zip file) on disk through the zip central
 * directory, without extracting anything else. A wheel without one, or with a corrupt entry,
 * is an IntegrityError naming the file.
 */
export async function readWheelMetadata(wheelPath: string, knownSize?: number): Promise<string> {
  const file = await open(wheelPath, 'r');
  try {
    // The first read takes the tail (up to 64 KiB); later reads inside it are served from
    // memory, so a small wheel costs one read instead of four thread-pool round trips.
    let tail: { start: number; bytes: Buffer } | undefined;
    // A blob's size is known from its verification: one stat fewer per wheel.
    const size = knownSize ?? (await file.stat()).size;
    const read = async (position: number, length: number) => {
      if (tail && position >= tail.start && position + length <= tail.start + tail.bytes.length)
        return tail.bytes.subarray(position - tail.start, position - tail.start + length);
      // Offsets and lengths come from the file: a damaged or hostile one must not make us
      // allocate gigabytes (or throw a RangeError) before the read finds it short.
      if (position < 0 || length < 0 || position + length > size)
        throw corrupt(
          wheelPath,
          `a record points outside the file (${length} bytes at ${position})`,
        );
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead !== length) throw corrupt(wheelPath, 'the file is truncated');
      tail ??= { start: position, bytes: buffer };
      return buffer;
    };
    const entries = await readCentralDirectory(read, size, wheelPath);
    const entry = entries.find((e) => /^[^/]+\.dist-info\/METADATA$/.test(e.name));
    if (!entry) {
      throw new IntegrityError(`${wheelPath} has no *.dist-info/METADATA`, {
        code: 'EWHEEL',
        hint: 'the wheel is not a valid wheel: remove it from the selection or report it upstream',
      });
    }
    const local = await read(entry.localOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw corrupt(wheelPath, 'bad local header');
    const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const raw = await read(dataStart, entry.compressedSize);
    const data =
      entry.method === 0 ? raw : entry.method === 8 ? inflate(raw, wheelPath) : undefined;
    if (!data) throw corrupt(wheelPath, `unsupported compression method ${entry.method}`);
    if (crc32(data) !== entry.crc) throw corrupt(wheelPath, `CRC mismatch in ${entry.name}`);
    return data.toString('utf8');
  } finally {
    await file.close();
  }
}

type Reader = (position: number, length: number) => Promise<Buffer>;

async function readCentralDirectory(
  read: Reader,
  size: number,
  path: string,
): Promise<CentralEntry[]> {
  const tailLength = Math.min(size, EOCD_SEARCH);
  const tail = await read(size - tailLength, tailLength);
  // Searched natively from the end: a byte-by-byte loop cost 0.4 ms per non-zip file.
  const at = tail.lastIndexOf(EOCD_BYTES, tail.length - 22);
  if (at < 0) throw corrupt(path, 'no end-of-central-directory record (not a zip file)');
  let count = tail.readUInt16LE(at + 10);
  let directorySize = tail.readUInt32LE(at + 12);
  let directoryOffset = tail.readUInt32LE(at + 16);
  // ZIP64: the 32-bit fields are saturated and the real values sit in the ZIP64 record.
  if (at >= 20 && tail.readUInt32LE(at - 20) === ZIP64_LOCATOR_SIGNATURE) {
    const record = await read(Number(tail.readBigUInt64LE(at - 12)), 56);
    if (record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw corrupt(path, 'bad ZIP64 record');
    count = Number(record.readBigUInt64LE(32));
    directorySize = Number(record.readBigUInt64LE(40));
    directoryOffset = Number(record.readBigUInt64LE(48));
  }
  const directory = await read(directoryOffset, directorySize);
  const entries: CentralEntry[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > directory.length || directory.readUInt32LE(pos) !== CENTRAL_SIGNATURE) {
      throw corrupt(path, 'bad central directory entry');
    }
    const nameLength = directory.readUInt16LE(pos + 28);
    const extraLength = directory.readUInt16LE(pos + 30);
    const commentLength = directory.readUInt16LE(pos + 32);
    const entry: CentralEntry = {
      name: directory.toString('utf8', pos + 46, pos + 46 + nameLength),
      method: directory.readUInt16LE(pos + 10),
      crc: directory.readUInt32LE(pos + 16),
      compressedSize: directory.readUInt32LE(pos + 20),
      uncompressedSize: directory.readUInt32LE(pos + 24),
      localOffset: directory.readUInt32LE(pos + 42),
    };
    applyZip64Extra(
      entry,
      directory.subarray(pos + 46 + nameLength, pos + 46 + nameLength + extraLength),
    );
    entries.push(entry);
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// ZIP64 extended information (header 0x0001) holds, in order, only the fields whose 32-bit
// values are saturated: uncompressed size, compressed size, local header offset.
function applyZip64Extra(entry: CentralEntry, extra: Buffer): void {
  for (let pos = 0; pos + 4 <= extra.length;) {
    const id = extra.readUInt16LE(pos);
    const length = extra.readUInt16LE(pos + 2);
    if (id === 0x0001) {
      let field = pos + 4;
      if (entry.uncompressedSize === 0xffffffff) {
        entry.uncompressedSize = Number(extra.readBigUInt64LE(field));
        field += 8;
      }
      if (entry.compressedSize === 0xffffffff) {
        entry.compressedSize = Number(extra.readBigUInt64LE(field));
        field += 8;
      }
      if (entry.localOffset === 0xffffffff)
        entry.localOffset = Number(extra.readBigUInt64LE(field));
      return;
    }
    pos += 4 + length;
  }
}

function inflate(raw: Buffer, path: string): Buffer {
  try {
    // METADATA is a few KiB: a compressed entry claiming more is refused, not inflated.
    return inflateRawSync(raw, { maxOutputLength: MAX_METADATA_BYTES });
  } catch (err) {
    throw corrupt(path, `cannot inflate METADATA: ${(err as Error).message}`);
  }
}

function corrupt(path: string, why: string): IntegrityError {
  return new IntegrityError(`${path} is not a readable wheel: ${why}`, {
    code: 'EWHEEL',
    hint: 'delete the file so it is downloaded again; if it persists, the upstream file is corrupt',
  });
}
