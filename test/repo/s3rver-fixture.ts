/**
 * A real S3-compatible server (s3rver) on loopback, port 0, with a `packages` bucket, and
 * a Storage opened on it through openStorage() the way the CLI would. s3rver runs in a child
 * process with node's legacy OpenSSL provider, so listings paginate (see s3rver-child.mjs).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';

export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 's3rver-child.mjs');

export interface S3Fixture {
  endpoint: string;
  open(prefix: string): Promise<Storage>;
  close(): Promise<void>;
}

export async function startS3(): Promise<S3Fixture> {
  const directory = await mkdtemp(join(tmpdir(), 'airlock-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`s3rver exited (code ${code}) before listening`)),
      );
      createInterface({ input: child.stdout! }).once('line', (line) => {
        resolve((JSON.parse(line) as { port: number }).port);
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    open: (prefix) =>
      openStorage(`s3://packages/${prefix}`, { s3Endpoint: endpoint, credentials: S3_CREDENTIALS }),
    async close() {
      child.stdin!.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
