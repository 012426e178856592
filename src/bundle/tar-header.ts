/**
 * POSIX ustar headers (512-byte blocks), written and read by airlock itself so that every byte
 * of the stream is accounted for when it is cut into parts. Only what a bundle needs: regular
 * files, and a pax 'x' extended header carrying `size=` for entries of 8 GiB and more (the
 * ustar size field holds 11 octal digits). The reader decodes any header so that it can name,
 * and refuse, whatever a hostile tar contains.
 */
export const BLOCK = 512;
/** The end of a tar archive: two zero blocks. */
export const END_OF_ARCHIVE = 2 * BLOCK;
/** Largest size the 11-digit octal field holds: 8 GiB − 1. */
export const USTAR_MAX_SIZE = 8 ** 11 - 1;

export interface TarHeaderFields {
  name: string;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** '0' regular file, '1' hard link, '2' symlink, '3'/'4' devices, '5' directory, 'x' pax. */
  typeflag?: string;
  mode?: number;
  linkname?: string;
  uid?: number;
  gid?: number;
}

export interface DecodedHeader {
  name: string;
  size: number;
  mtime: number;
  typeflag: string;
  mode: number;
  linkname: string;
  /** The header's magic and version: 'ustar\0' + '00' for POSIX. */
  magic: string;
}

export function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** Bytes of header a regular file of this size takes: one block, or three with a pax header. */
export function headerBytesFor(size: number): number {
  return size > USTAR_MAX_SIZE ? 3 * BLOCK : BLOCK;
}

/** Bytes a regular file entry takes in the stream: header(s) plus data padded to a block. */
export function entryBytes(size: number): number {
  return headerBytesFor(size) + paddedSize(size);
}

/** The header block(s) of a regular file, with a pax 'x' header in front when size ≥ 8 GiB. */
export function encodeFileHeader(name: string, size: number, mtime: number): Buffer {
  if (size <= USTAR_MAX_SIZE) return encodeHeader({ name, size, mtime });
  const pax = paxRecord('size', String(size));
  const paxBlock = Buffer.alloc(BLOCK);
  paxBlock.write(pax, 'utf8');
  const paxHeader = encodeHeader({
    name: `PaxHeaders/${name}`,
    size: pax.length,
    mtime,
    typeflag: 'x',
  });
  // The ustar field cannot hold the size; readers take it from the pax record.
  return Buffer.concat([paxHeader, paxBlock, encodeHeader({ name, size: 0, mtime })]);
}

/** One pax record, "LEN key=value\n", where LEN counts its own digits too. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length += 1;
  return `${length}${body}`;
}

/** Any ustar header, including ones a bundle must never contain (tests craft those). */
export function encodeHeader(fields: TarHeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, fields.name);
  writeOctal(block, 100, 8, fields.mode ?? 0o644);
  writeOctal(block, 108, 8, fields.uid ?? 0);
  writeOctal(block, 116, 8, fields.gid ?? 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.write(fields.typeflag ?? '0', 156, 1, 'latin1');
  writeString(block, 157, 100, fields.linkname ?? '');
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeString(block, 265, 32, 'airlock');
  writeString(block, 297, 32, 'airlock');
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  // The checksum is computed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  const sum = checksumOf(block);
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return block;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 1) if (block[i] !== 0) return false;
  return true;
}

/** Decodes a header block; returns a reason string instead when the block is not a header. */
export function decodeHeader(block: Buffer): DecodedHeader | string {
  const stored = parseOctal(block, 148, 8);
  if (stored === undefined || stored !== checksumOf(block)) return 'bad header checksum';
  const size = parseOctal(block, 124, 12);
  if (size === undefined) return 'unreadable size field';
  const prefix = readString(block, 345, 155);
  const name = readString(block, 0, 100);
  const magic = block.toString('latin1', 257, 265);
  const ustar = magic.startsWith('ustar');
  return {
    name: ustar && prefix !== '' ? `${prefix}/${name}` : name,
    size,
    mtime: parseOctal(block, 136, 12) ?? 0,
    typeflag: block.toString('latin1', 156, 157).replace('\u0000', '0'),
    mode: parseOctal(block, 100, 8) ?? 0,
    linkname: readString(block, 157, 100),
    magic,
  };
}

/** Parses the body of a pax extended header into its records; undefined if malformed. */
export function parsePaxRecords(body: Buffer): Map<string, string> | undefined {
  const records = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    if (space < 0) return body.subarray(at).every((b) => b === 0) ? records : undefined;
    const length = Number(body.toString('latin1', at, space));
    if (!Number.isInteger(length) || length <= 0 || at + length > body.length) return undefined;
    const record = body.toString('utf8', space + 1, at + length);
    const eq = record.indexOf('=');
    if (eq <= 0 || !record.endsWith('\n')) return undefined;
    records.set(record.slice(0, eq), record.slice(eq + 1, -1));
    at += length;
  }
  return records;
}

function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum;
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  if (Buffer.byteLength(value) > length) throw new Error(`tar field too long: ${value}`);
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new Error(`tar numeric field overflow: ${value}`);
  block.write(`${digits}\u0000`, offset, length, 'latin1');
}

function parseOctal(block: Buffer, offset: number, length: number): number | undefined {
  const text = block
    .toString('latin1', offset, offset + length)
    .replace(/[\u0000 ]+$/, '')
    .trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

function readString(block: Buffer, offset: number, length: number): string {
  const end = block.indexOf(0, offset);
  return block.toString('utf8', offset, end < 0 || end > offset + length ? offset + length : end);
}
