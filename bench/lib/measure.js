/** The method every measurement follows: clean target, settled disk, median of N runs. */
import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';

/** An empty directory at path (what was there is removed first). */
export async function fresh(path) {
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  return path;
}

/**
 * Flushes dirty pages before a timed run, so one tool does not pay for the writeback of the
 * previous tool's output.
 */
export function settle() {
  spawnSync('sync');
}

/**
 * Runs `once` (which returns a tools.run() result) `runs` times, with `before` (untimed)
 * ahead of each, and returns the run with the median wall time.
 */
export async function medianOf(runs, once, before = async () => {}) {
  const all = [];
  for (let i = 0; i < runs; i++) {
    await before();
    settle();
    all.push(await once());
  }
  all.sort((a, b) => a.seconds - b.seconds);
  return all[Math.floor((all.length - 1) / 2)];
}

/** A TCP port free on 127.0.0.1 right now (for nginx and tinyproxy, which need one up front). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it resolves truthy, or fails after `ms`. */
export async function waitFor(what, probe, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
