/**
 * `serve` and `demo` errors an operator meets on the first day (issue 19, bugs 4 and 13): a
 * busy port, an address the host does not have, a port that is not a number, a blob missing
 * from the repository. Each is a clear message, never an internal error with a stack.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AIRLOCK_BIN, collect, runAirlock, startAirlock, type CliResult } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

// The port-80 case runs airlock as nobody: that needs root to switch users, and a checkout
// nobody may read (a clone under a 0700 temp dir is not one).
const NOBODY_CAN_RUN =
  process.getuid?.() === 0 &&
  spawnSync(
    process.execPath,
    ['-e', `require('node:fs').accessSync(${JSON.stringify(AIRLOCK_BIN)}, 4)`],
    { uid: 65534, gid: 65534, stdio: 'ignore' },
  ).status === 0;
if (!NOBODY_CAN_RUN)
  console.warn(
    'skipping the port-80 case: it needs root and a checkout that user nobody (65534) can read',
  );

let t: TestUpstream;
let root: string;
let repo: string;

beforeAll(async () => {
  t = await withUpstream();
  root = t.tempDir('serve-errors');
  const ws = join(root, 'ws');
  const usb = join(root, 'usb');
  repo = join(root, 'repo');
  const config = writeConfig(
    root,
    fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['cran'] }),
  );
  for (const args of [
    ['download', '--config', config, '--workspace', ws],
    ['bundle', '--workspace', ws, '--out', usb],
  ]) {
    expect((await runAirlock(args)).code).toBe(0);
  }
  const manifest = join(
    usb,
    readdirSync(usb).find((f) => f.endsWith('.manifest.json'))!,
  );
  expect((await runAirlock(['import', manifest, '--repo', repo])).code).toBe(0);
}, 120_000);
afterAll(async () => t?.close());

async function occupy(port = 0): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

function expectUsage(res: CliResult, ...parts: string[]): void {
  expect(res.code, res.stderr).toBe(2);
  expect(res.stderr).not.toContain('internal error');
  expect(res.stderr).not.toMatch(/^\s+at /m);
  for (const part of parts) expect(res.stderr).toContain(part);
}

describe('serve cannot listen', () => {
  it('names host:port when the port is in use, exit 2', async () => {
    const busy = await occupy();
    try {
      const port = portOf(busy);
      const res = await runAirlock(['serve', '--repo', repo, '--port', String(port)]);
      expectUsage(res, `127.0.0.1:${port}`, 'in use', '--port');
    } finally {
      busy.close();
    }
  });

  it('names the address when the host has no such address, exit 2', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to this host.
    const res = await runAirlock(['serve', '--repo', repo, '--host', '192.0.2.1', '--port', '0']);
    expectUsage(res, '192.0.2.1', '--host');
  });

  it.skipIf(!NOBODY_CAN_RUN)(
    'says a port below 1024 needs privileges when run unprivileged, exit 2',
    async () => {
      // Root may bind port 80: run the command as nobody, on a repository nobody can read.
      const open = t.tempDir('eacces');
      chmodSync(open, 0o755);
      const bare = join(open, 'repo');
      mkdirSync(bare);
      writeFileSync(
        join(bare, 'airlock-repository.json'),
        JSON.stringify({ format: 1, createdAt: '2026-12-04T00:00:00Z', policy: {} }),
      );
      const child = spawn(
        process.execPath,
        [AIRLOCK_BIN, 'serve', '--repo', bare, '--port', '80'],
        {
          uid: 65534,
          gid: 65534,
          env: { ...process.env, CI: 'true', HOME: '/tmp' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      expectUsage(await collect(child), '127.0.0.1:80', 'permission denied', '1024');
    },
  );

  it('names the raw value of a port that is not a number', async () => {
    for (const value of ['abc', '70000', '1.5', '-1']) {
      const res = await runAirlock(['serve', '--repo', repo, '--port', value]);
      expectUsage(res, `--port ${value}`);
      expect(res.stderr).not.toContain('NaN');
    }
    const demo = await runAirlock(['demo', '--port', 'abc', '--dir', join(root, 'demo-nan')]);
    expectUsage(demo, '--port abc');
    const download = await runAirlock([
      'download',
      '--config',
      'x.yaml',
      '--workspace',
      join(root, 'ws'),
      '--concurrency',
      'many',
    ]);
    expectUsage(download, '--concurrency many');
  });
});

describe('demo and the port', () => {
  it('refuses a busy --port before it does any work', async () => {
    const busy = await occupy();
    try {
      const port = portOf(busy);
      const dir = join(root, 'demo-busy');
      const res = await runAirlock(['demo', '--dir', dir, '--port', String(port)]);
      expectUsage(res, `127.0.0.1:${port}`, 'in use');
      expect(res.stdout).not.toContain('airlock download');
    } finally {
      busy.close();
    }
  });

  it('without --port serves on a free port even when 4242 is taken', async () => {
    // 4242 may already be taken by someone else on this host: taken it is, either way.
    const held = await occupy(4242).catch(() => undefined);
    const child = startAirlock(['demo', '--dir', join(root, 'demo-free')]);
    const result = collect(child);
    try {
      let stdout = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no server URL in:\n${stdout}`)), 90_000);
        child.stdout!.on('data', () => {
          const match = /--index-url (http:\/\/127\.0\.0\.1:(\d+))\//.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        child.on('close', () => reject(new Error(`demo exited:\n${stdout}`)));
      });
      expect(url).not.toContain(':4242');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      held?.close();
    }
    expect((await result).code).toBe(0);
  }, 120_000);
});

describe('serve and a blob missing from the repository', () => {
  it('answers 500 and logs one line naming the blob and the request, suggesting airlock check', async () => {
    const damaged = join(root, 'damaged');
    execFileSync('cp', ['-a', repo, damaged]);
    rmSync(join(damaged, 'blobs'), { recursive: true });
    const child = startAirlock(['serve', '--repo', damaged, '--port', '0', '--access-log', 'off']);
    const result = collect(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(stderr)), 20_000);
        child.stderr!.on('data', () => {
          const match = / at (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      const path = '/cran/2026-11-01/src/contrib/PACKAGES';
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(body).toMatch(/blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}/);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const failures = stderr.split('\n').filter((l) => l.includes(path));
      expect(failures, stderr).toHaveLength(1);
      expect(failures[0]).toMatch(/GET .*blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}/);
      expect(failures[0]).toContain('airlock check');
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await result).code).toBe(0);
  });
});
