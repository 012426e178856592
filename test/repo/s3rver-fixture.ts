/**
 * A real S3-compatible server (s3rver) on loopback, port 0, with a `packages` bucket, and
 * a Storage opened on it through openStorage() the way the CLI would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Fixture {
  endpoint: string;
  open(prefix: string): Promise<Storage>;
  close(): Promise<void>;
}

export async function startS3(): Promise<S3Fixture> {
  const directory = await mkdtemp(join(tmpdir(), 'airlock-s3rver-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: 'packages', configs: [] }],
  });
  const address = (await server.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    open: (prefix) =>
      openStorage(`s3://packages/${prefix}`, { s3Endpoint: endpoint, credentials: S3_CREDENTIALS }),
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
