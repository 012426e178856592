/**
 * A second S3-compatible server for the tests: moto's server mode (Python, installed on this
 * machine kind), on loopback, port 0, with a `packages` bucket. Unlike s3rver it honours
 * conditional writes (If-None-Match: * and If-Match on PutObject, If-Match on DeleteObject),
 * as AWS S3 does, so the import lock's compare-and-swap path runs against a real store.
 */
import { spawn, spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openStorage } from '../../src/repo/open-storage.js';
import type { S3Fixture } from './s3rver-fixture.js';

export const MOTO_CREDENTIALS = { accessKeyId: 'moto', secretAccessKey: 'moto' };

/**
 * A Python that has moto: $AIRLOCK_TEST_PYTHON, else python3 on the PATH, else pyenv's (the
 * machine image ships moto in pyenv's Python, not in Debian's /usr/bin/python3). Neither npm
 * nor Debian packages moto, so `.ci/run` cannot install it: where it is missing, the moto
 * cases skip with this message (s3rver still runs every S3 case).
 */
function findPythonWithMoto(): { python: string } | { missing: string } {
  const candidates = [
    process.env.AIRLOCK_TEST_PYTHON,
    'python3',
    join(homedir(), '.pyenv', 'shims', 'python3'),
  ].filter((c): c is string => c !== undefined && c !== '');
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' });
    if (probe.status === 0) return { python };
  }
  return {
    missing: `no Python with moto's server found (tried ${candidates.join(', ')}): install the Python package moto[server] or set AIRLOCK_TEST_PYTHON`,
  };
}

const found = findPythonWithMoto();

/** Why moto cannot run here, or undefined when it can. */
export const MOTO_MISSING = 'missing' in found ? found.missing : undefined;
if (MOTO_MISSING) console.warn(`skipping the moto cases: ${MOTO_MISSING}`);

/** `rows` without the moto ones when moto is missing (they skip, said once above). */
export function whereMotoRuns<T>(rows: T[], isMoto: (row: T) => boolean): T[] {
  return MOTO_MISSING ? rows.filter((row) => !isMoto(row)) : rows;
}

export async function startMoto(): Promise<S3Fixture> {
  if ('missing' in found) throw new Error(found.missing);
  const child = spawn(found.python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`moto server exited (code ${code}): is python3's moto installed?`)),
      );
      const lines = createInterface({ input: child.stderr! });
      lines.on('line', (line) => {
        const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (match) resolve(Number(match[1]));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const admin = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  });
  await admin.send(new CreateBucketCommand({ Bucket: 'packages' }));
  admin.destroy();
  return {
    endpoint,
    open: (prefix) =>
      openStorage(`s3://packages/${prefix}`, {
        s3Endpoint: endpoint,
        credentials: MOTO_CREDENTIALS,
      }),
    async close() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}
