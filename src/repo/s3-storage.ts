/**
 * The S3 backend (AWS S3 or an S3-compatible store). Objects appear whole or not at all:
 * PutObject is atomic, and a multipart upload that never completes leaves nothing at its key.
 * Exclusive creation uses S3 conditional writes (If-None-Match: *), then reads the object back
 * and checks it is ours: stores that ignore the header (s3rver, older MinIO/Ceph) are caught
 * unless two writers both pass the existence check before either writes — a small window
 * that docs/repository-layout.md documents. conditionalWrites() finds out once, by trying,
 * whether the store honours the headers; the import lock relies on them only when it does.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isS3NotFound, isS3PreconditionFailed, s3ErrorFrom } from './s3-errors.js';
import { guardSize } from './size-guard.js';
import type { StorageError } from '../errors.js';
import type {
  ByteRange,
  ConditionalSupport,
  ConditionalWrites,
  ObjectInfo,
  Storage,
} from './storage.js';

// A multipart upload holds PARTS_IN_FLIGHT parts in memory, plus the one being filled and the
// read buffers its bytes came in (freed only at the next GC). 16 MiB × 4 took an import to
// 420 MB peak RSS; 8 MiB × 2 keeps it at 215-250 MB with the small blobs' uploads beside it.
export const PART_SIZE = 8 * 1024 * 1024;
export const PARTS_IN_FLIGHT = 2;

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix without leading or trailing '/', or '' for the bucket root. */
  prefix: string;
  client: S3Client;
  /** Multipart part size in bytes (default PART_SIZE; bench/s3-multipart.js varies it). */
  partSize?: number;
  /** Parts uploaded at once per blob (default PARTS_IN_FLIGHT). */
  partsInFlight?: number;
}

export class S3Storage implements Storage {
  readonly location: string;
  // Each write is a round trip: enough in flight to hide the latency, few enough to stay polite.
  readonly parallelWrites = 16;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;
  private conditional: Promise<ConditionalSupport> | undefined;
  private readonly partSize: number;
  private readonly partsInFlight: number;

  constructor(opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix === '' ? '' : `${opts.prefix}/`;
    this.client = opts.client;
    this.partSize = opts.partSize ?? PART_SIZE;
    this.partsInFlight = opts.partsInFlight ?? PARTS_IN_FLIGHT;
    this.location = `s3://${opts.bucket}/${opts.prefix}`.replace(/\/$/, '');
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand(this.params(key)));
      return {
        size: out.ContentLength ?? 0,
        modified: out.LastModified ?? new Date(0),
        version: out.ETag ?? '',
      };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw s3ErrorFrom(err, 'stat', this.url(key));
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          ...this.params(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return out.Body as Readable;
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw s3ErrorFrom(err, 'read', this.url(key));
    }
  }

  async readBuffer(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand(this.params(key)));
      return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw s3ErrorFrom(err, 'read', this.url(key));
    }
  }

  async write(key: string, body: Buffer | string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ ...this.params(key), Body: body }));
    } catch (err) {
      throw s3ErrorFrom(err, 'write', this.url(key));
    }
  }

  async writeStream(key: string, body: Readable, size: number): Promise<void> {
    const guarded = guardSize(body, size, key);
    // A body error aborts the upload (leavePartsOnError false): nothing appears at the key.
    const upload = new Upload({
      client: this.client,
      params: { ...this.params(key), Body: guarded, ContentLength: size },
      queueSize: this.partsInFlight,
      partSize: this.partSize,
      leavePartsOnError: false,
    });
    let bodyError: unknown;
    guarded.once('error', (err) => (bodyError ??= err));
    try {
      await upload.done();
    } catch (err) {
      throw bodyError ?? s3ErrorFrom(err, 'upload', this.url(key));
    }
    if (bodyError) {
      // The upload finished before the body's final check failed: take the object back.
      await this.delete(key);
      throw bodyError;
    }
  }

  async createExclusive(key: string, body: Buffer | string): Promise<boolean> {
    if (await this.stat(key)) return false;
    try {
      await this.client.send(
        new PutObjectCommand({ ...this.params(key), Body: body, IfNoneMatch: '*' }),
      );
    } catch (err) {
      if (isS3PreconditionFailed(err)) return false;
      throw s3ErrorFrom(err, 'create', this.url(key));
    }
    const stored = await this.readBuffer(key);
    return stored !== undefined && stored.equals(Buffer.from(body));
  }

  conditionalWrites(): Promise<ConditionalSupport> {
    this.conditional ??= this.probeConditionalWrites();
    return this.conditional;
  }

  // Creates a probe object twice with If-None-Match: * and replaces it once with a wrong
  // If-Match: a store that lets either through ignores the conditions (s3rver does both).
  private async probeConditionalWrites(): Promise<ConditionalSupport> {
    const writes = this.conditionalOps();
    const probe = `locks/conditional-probe-${randomBytes(8).toString('hex')}`;
    try {
      const first = await writes.createIfAbsent(probe, 'probe 1\n');
      if (first === undefined) {
        return {
          supported: false,
          reason: `a create with If-None-Match: * of the new key ${this.url(probe)} was refused`,
        };
      }
      if ((await writes.createIfAbsent(probe, 'probe 2\n')) !== undefined) {
        return {
          supported: false,
          reason: 'the store ignores If-None-Match: it let a second create of one key through',
        };
      }
      if ((await writes.replaceIfMatch(probe, 'probe 3\n', '"0-not-the-etag"')) !== undefined) {
        return {
          supported: false,
          reason: 'the store ignores If-Match: it let a write with a wrong ETag through',
        };
      }
      return { supported: true, writes };
    } catch (err) {
      const name = (err as StorageError).cause
        ? ((err as StorageError).cause as { name?: string }).name
        : undefined;
      if (name === 'NotImplemented') {
        return {
          supported: false,
          reason: 'the store answers NotImplemented to conditional writes',
        };
      }
      throw err;
    } finally {
      await this.delete(probe);
    }
  }

  private conditionalOps(): ConditionalWrites {
    const put = async (
      key: string,
      body: Buffer | string,
      condition: { IfNoneMatch: string } | { IfMatch: string },
    ) => {
      try {
        const out = await this.client.send(
          new PutObjectCommand({ ...this.params(key), Body: body, ...condition }),
        );
        return out.ETag ?? '';
      } catch (err) {
        // 404: If-Match on a key that is gone (AWS answers NoSuchKey) — changed, like a 412.
        if (isS3PreconditionFailed(err) || ('IfMatch' in condition && isS3NotFound(err)))
          return undefined;
        throw s3ErrorFrom(err, 'write (conditionally)', this.url(key));
      }
    };
    return {
      createIfAbsent: (key, body) => put(key, body, { IfNoneMatch: '*' }),
      replaceIfMatch: (key, body, version) => put(key, body, { IfMatch: version }),
      deleteIfMatch: async (key, version) => {
        try {
          await this.client.send(
            new DeleteObjectCommand({ ...this.params(key), IfMatch: version }),
          );
          return true;
        } catch (err) {
          if (isS3PreconditionFailed(err) || isS3NotFound(err)) return false;
          throw s3ErrorFrom(err, 'delete (conditionally)', this.url(key));
        }
      },
      readVersioned: async (key) => {
        try {
          const out = await this.client.send(new GetObjectCommand(this.params(key)));
          const body = out.Body
            ? Buffer.from(await out.Body.transformToByteArray())
            : Buffer.alloc(0);
          return { body, version: out.ETag ?? '' };
        } catch (err) {
          if (isS3NotFound(err)) return undefined;
          throw s3ErrorFrom(err, 'read', this.url(key));
        }
      },
    };
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand(this.params(key)));
    } catch (err) {
      if (!isS3NotFound(err)) throw s3ErrorFrom(err, 'delete', this.url(key));
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        throw s3ErrorFrom(err, 'list', this.url(prefix));
      }
      for (const object of out.Contents ?? []) {
        if (object.Key) yield object.Key.slice(this.prefix.length);
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  async abandonPartialWrites(): Promise<number> {
    let uploads;
    try {
      uploads = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix }),
      );
    } catch (err) {
      // Stores without the listing (s3rver) keep their own leftovers; nothing to do here.
      if ((err as { name?: string }).name === 'NotImplemented') return 0;
      throw s3ErrorFrom(err, 'list multipart uploads in', this.url(''));
    }
    let aborted = 0;
    for (const upload of uploads.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId) continue;
      await this.client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: this.bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
        )
        .catch((err: unknown) => {
          if (!isS3NotFound(err)) throw s3ErrorFrom(err, 'abort upload of', upload.Key!);
        });
      aborted++;
    }
    return aborted;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private params(key: string): { Bucket: string; Key: string } {
    return { Bucket: this.bucket, Key: this.prefix + key };
  }

  private url(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }
}
