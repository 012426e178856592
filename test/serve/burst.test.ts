import { createHash, randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../src/serve/server.js';
import { buildRepository } from '../helpers/repo-builder.js';
import { sha256 } from './fixture-repository.js';
import { createHarness, type Harness } from './serve-harness.js';

const BIG = 8 * 1024 * 1024;
let h: Harness;
let server: RunningServer;
let big: Buffer;

beforeAll(async () => {
  h = await createHarness();
  big = randomBytes(BIG);
  await buildRepository(h.storage, [
    {
      descriptor: {
        source: 'big',
        snapshot: '2026-11-01',
        type: 'cran',
        requested: '2026-11-01',
        servedTemplate: 'big/{snapshot}',
        variants: [''],
      },
      files: [
        {
          path: 'src/contrib/huge_1.0.tar.gz',
          role: 'package',
          bytes: big,
          package: 'huge',
          version: '1.0',
        },
      ],
    },
  ]);
  server = await h.start();
});
afterAll(() => h.cleanup());

describe('load', () => {
  test('400 concurrent requests (50 at a time) all succeed with the right bytes and memory stays flat', async () => {
    const pool = new Pool(server.url, { connections: 50 });
    const pip =
      'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
    const targets = [
      { path: '/big/2026-11-01/src/contrib/huge_1.0.tar.gz', sha: sha256(big), headers: {} },
      { path: '/cran/latest/src/contrib/PACKAGES', headers: { 'accept-encoding': 'gzip' } },
      { path: '/pypi/latest/simple/alpha/', headers: { accept: pip } },
      {
        path: '/cran/__linux__/jammy/latest/src/contrib/airA_1.1.tar.gz',
        headers: { 'user-agent': 'R (4.3.2 x86_64-pc-linux-gnu)' },
      },
    ];
    const before = process.memoryUsage().rss;
    const statuses: number[] = [];
    let bigChecked = 0;
    try {
      await Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          const target = targets[i % targets.length]!;
          const res = await pool.request({
            path: target.path,
            method: 'GET',
            headers: target.headers,
          });
          statuses.push(res.statusCode);
          // Hash while reading, so the client's own memory stays flat too.
          const hash = createHash('sha256');
          for await (const chunk of res.body) hash.update(chunk as Buffer);
          if (target.sha) {
            expect(hash.digest('hex')).toBe(target.sha);
            bigChecked++;
          }
        }),
      );
    } finally {
      await pool.close();
    }
    const grown = process.memoryUsage().rss - before;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(bigChecked).toBe(100);
    // 100 downloads of an 8 MiB file, up to 50 at once: a server that buffered files would
    // grow by hundreds of MiB. The bound is loose on purpose (GC timing, allocator slack).
    expect(grown).toBeLessThan(150 * 1024 * 1024);
  }, 60_000);

  test('clients hanging up mid-file leave the others and the next ones with the right bytes', async () => {
    const pool = new Pool(server.url, { connections: 20 });
    const path = '/big/2026-11-01/src/contrib/huge_1.0.tar.gz';
    const fetchBig = async (hangUp: boolean): Promise<string | undefined> => {
      const res = await pool.request({ path, method: 'GET' });
      expect(res.statusCode).toBe(200);
      const hash = createHash('sha256');
      for await (const chunk of res.body) {
        if (hangUp) {
          res.body.destroy();
          return undefined;
        }
        hash.update(chunk as Buffer);
      }
      return hash.digest('hex');
    };
    try {
      // The server reuses its read buffers: one taken back from a closed connection must not
      // be written into while another response still sends it.
      const first = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetchBig(i % 2 === 0).catch(() => 'failed')),
      );
      expect(first.filter((h) => h !== undefined)).toEqual(Array(10).fill(sha256(big)));
      const after = await Promise.all(Array.from({ length: 10 }, () => fetchBig(false)));
      expect(after).toEqual(Array(10).fill(sha256(big)));
    } finally {
      await pool.close();
    }
  }, 60_000);
});
