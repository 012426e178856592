/**
 * The one small interface every repository backend implements (a directory, an S3 bucket).
 * Keys are '/'-separated paths relative to the backend's root (docs/architecture.md). Every
 * write is atomic: a reader sees no object, or the whole object, never a part of one.
 */
import type { Readable, Writable } from 'node:stream';

export interface ObjectInfo {
  size: number;
  /** Last modification time. */
  modified: Date;
  /** A backend version tag (S3 ETag, fs mtime+size): changes whenever the object is replaced. */
  version: string;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** How durable a write must be when its promise resolves. */
export interface WriteOptions {
  /**
   * The caller calls `syncDeferred()` before it writes anything that names this object (a
   * snapshot document, published.json), so the backend may make the object's NAME durable then
   * instead of now: the fs backend fsyncs each directory once per batch rather than once per
   * object. The object's bytes are durable before its name appears either way, so a crash
   * leaves the whole object or no object at the key, never a part of one.
   */
  deferNameSync?: boolean;
}

/**
 * Compare-and-swap on one small object by its version (S3: If-None-Match / If-Match on the
 * ETag), so that a holder of the import lock can renew and release it without a window in
 * which another writer's lock could be overwritten or deleted.
 */
export interface ConditionalWrites {
  /** Creates the object if no object exists at key: its new version, or undefined if one does. */
  createIfAbsent(key: string, body: Buffer | string): Promise<string | undefined>;
  /**
   * Replaces the object only if its version is still `version`: the new version, or undefined
   * when the object changed or is gone.
   */
  replaceIfMatch(key: string, body: Buffer | string, version: string): Promise<string | undefined>;
  /** Deletes the object only if its version is still `version`; false when it changed. */
  deleteIfMatch(key: string, version: string): Promise<boolean>;
  /** The object's bytes with their version, read in one request, or undefined when none. */
  readVersioned(key: string): Promise<{ body: Buffer; version: string } | undefined>;
}

/** Whether a store honours conditional writes, found out by trying (see conditionalWrites()). */
export type ConditionalSupport =
  { supported: true; writes: ConditionalWrites } | { supported: false; reason: string };

/** One object of a writeBatch(). */
export interface BatchItem {
  key: string;
  body: Buffer;
}

export interface BatchWriteOptions extends WriteOptions {
  /**
   * Leave alone an item whose key already holds an object of the body's size: for
   * content-addressed keys (blobs) the same size at the same key means the same bytes.
   */
  keepSameSize?: boolean;
}

export interface Storage {
  /** For messages: '/srv/repo' or 's3://bucket/prefix'. */
  readonly location: string;
  /**
   * Small writes worth keeping in flight at once (each waits on an fsync on a disk, on a round
   * trip on S3). Optional; callers assume 1 without it.
   */
  readonly parallelWrites?: number;
  /** Metadata of an object, or undefined when there is none. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** The object's bytes (or a range of them) as a stream, or undefined when there is none. */
  read(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /**
   * Copies the object (`size` bytes, or a range of them) into `destination` and ends it;
   * resolves with the bytes copied, or undefined when there is no object (nothing written).
   * Stops early without an error when the destination is destroyed. Optional: a backend that
   * can do better than read() + pipeline (the fs backend reuses its buffers) implements it.
   */
  copyTo?(
    key: string,
    destination: Writable,
    size: number,
    range?: ByteRange,
  ): Promise<number | undefined>;
  /** A small object whole (JSON documents, pointers), or undefined when there is none. */
  readBuffer(key: string): Promise<Buffer | undefined>;
  /** Writes a small object atomically, replacing any object at that key. */
  write(key: string, body: Buffer | string, opts?: WriteOptions): Promise<void>;
  /**
   * Writes several small objects, each atomically as write() does, with their durability
   * waits overlapping (the fs backend fsyncs a batch's temp files together before renaming
   * any of them). Resolves with, for each item in order, whether it was written (false: kept,
   * see keepSameSize). The bodies are handed over: the caller must not use them after the call
   * (the fs backend moves them to its writer thread without a copy). Optional: callers without
   * it use write() per object.
   */
  writeBatch?(items: readonly BatchItem[], opts?: BatchWriteOptions): Promise<boolean[]>;
  /**
   * Streams a large object in atomically. `body` may fail (an integrity check in the stream
   * errors it at its end): then nothing appears at `key` and the promise rejects with that error.
   */
  writeStream(key: string, body: Readable, size: number, opts?: WriteOptions): Promise<void>;
  /** Creates the object only if no object exists at key (O_EXCL, S3 If-None-Match). */
  createExclusive(key: string, body: Buffer | string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Whether this store honours conditional writes, and the operations when it does. Optional:
   * a backend without it (the directory: O_EXCL is atomic by itself) is not asked. The S3
   * backend probes the store once, since some S3-compatible stores ignore the headers.
   */
  conditionalWrites?(): Promise<ConditionalSupport>;
  /** Every key under a prefix ('blobs/sha256/'), in no particular order. */
  list(prefix: string): AsyncIterable<string>;
  /**
   * Cleans up what killed writers left behind (fs: temp files in tmp/; S3: multipart uploads
   * never completed). Optional; the importer calls it only while holding the import lock.
   * Returns how many leftovers it removed.
   */
  abandonPartialWrites?(): Promise<number>;
  /**
   * Makes durable the names of every write made with `deferNameSync` so far. Optional: a
   * backend whose writes are durable when they resolve (S3) has nothing to do.
   */
  syncDeferred?(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
