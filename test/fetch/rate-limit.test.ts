import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { fetchFile } from '../../src/fetch/fetch-file.js';
import { createRateLimiter, parseRate } from '../../src/fetch/rate-limit.js';
import { parseSize } from '../../src/size.js';
import { BlobStore } from '../../src/workspace/blob-store.js';
import { randomBytesOf, sha256, startFaultServer } from './fault-server.js';

describe('rate parsing', () => {
  it('reads binary K/M/G suffixes and plain bytes per second', () => {
    expect(parseRate('20M')).toBe(20 * 1024 * 1024);
    expect(parseRate('500K')).toBe(500 * 1024);
    expect(parseRate('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseRate('1048576')).toBe(1048576);
    expect(parseRate('20m/s')).toBe(20 * 1024 * 1024);
    expect(parseRate('0')).toBe(0);
    expect(parseSize('2GiB')).toBe(2 * 1024 ** 3);
  });

  it('rejects a malformed rate with a UsageError naming --limit-rate', () => {
    for (const bad of ['fast', '20X', '-1M', '']) {
      const error = (() => {
        try {
          parseRate(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('--limit-rate');
      expect((error as UsageError).exitCode).toBe(2);
    }
  });
});

describe('rate limiter', () => {
  it('caps the total bandwidth of concurrent transfers (2 MiB at 1 MiB/s takes over 1.5 s)', async () => {
    const server = await startFaultServer();
    const dir = await mkdtemp(join(tmpdir(), 'airlock-rate-'));
    const dispatcher = createDispatcher();
    try {
      const files = [randomBytesOf(1024 * 1024, 31), randomBytesOf(1024 * 1024, 32)];
      files.forEach((body, i) => server.set(`/f${i}`, { body }));
      const ctx = {
        dispatcher,
        store: new BlobStore(dir),
        limiter: createRateLimiter(parseRate('1M')),
      };
      const started = performance.now();
      await Promise.all(
        files.map((body, i) =>
          fetchFile({ url: server.url(`/f${i}`), expected: { sha256: sha256(body) } }, ctx),
        ),
      );
      expect(performance.now() - started).toBeGreaterThan(1500);
    } finally {
      await dispatcher.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
