/**
 * What the deployment tests share: which host tools they need (skipped with the Debian
 * package named when one is missing, but a failure under CI=true, where `.ci/run` installs
 * them), the release built by `deploy/release.mjs`, and a Debian 12 minbase root file system
 * built once by debootstrap into a cache outside the repository.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
export const RELEASE_NAME = `airlock-${VERSION}-linux-${process.arch}`;

/** A tool the test runs, and the Debian package that brings it. */
export interface Tool {
  command: string;
  pkg: string;
  /** Where the package puts it off PATH, if it may (catatonit: /usr/libexec/podman/). */
  alsoAt?: string;
}

/**
 * Why the tests needing `tools` (and root) cannot run here, or undefined when they can. Under
 * CI=true nothing is skipped: the reason is returned as `failure` so the test fails loudly.
 */
export function toolsMissing(
  tools: Tool[],
  opts: { root?: boolean } = {},
): { skip?: string; failure?: string } {
  const missing = tools.filter(
    (t) => !onPath(t.command) && !(t.alsoAt !== undefined && existsSync(t.alsoAt)),
  );
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(
      `missing ${missing.map((t) => t.command).join(', ')}: install the Debian package(s) ${[
        ...new Set(missing.map((t) => t.pkg)),
      ].join(' ')}`,
    );
  }
  if (opts.root !== false && process.getuid?.() !== 0)
    problems.push('needs root (chroot, unshare, mounts)');
  if (problems.length === 0) return {};
  const reason = problems.join('; ');
  if (process.env.CI === 'true') return { failure: reason };
  process.stderr.write(`skipping: ${reason}\n`);
  return { skip: reason };
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds the release into `outDir` with the project's builder; returns the tarball's path. */
export async function buildRelease(outDir: string, signKey?: string): Promise<string> {
  await run(
    process.execPath,
    [
      join(REPO_ROOT, 'deploy/release.mjs'),
      '--out',
      outDir,
      ...(signKey ? ['--sign-key', signKey] : []),
    ],
    { timeout: 300_000 },
  );
  return join(outDir, `${RELEASE_NAME}.tar.gz`);
}

const CACHE_ROOT = dirname(
  process.env.AIRLOCK_TEST_ROOTFS ?? '/var/cache/airlock-test/bookworm-minbase',
);

/**
 * The release of this build (dist/, package.json, the lock file, the commit), built once and
 * shared by the test files that only use it: kept under the cache directory by a hash of its
 * inputs, so a rebuilt dist/ gets a new one (older ones are removed).
 */
export async function sharedRelease(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['package.json', 'package-lock.json', 'deploy/release.mjs'])
    hash.update(readFileSync(join(REPO_ROOT, file)));
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else hash.update(`${path}\0`).update(readFileSync(path));
    }
  };
  walk(join(REPO_ROOT, 'dist'));
  // Every mtime in the tarball is the commit's time (or SOURCE_DATE_EPOCH): part of its bytes.
  hash.update(process.env.SOURCE_DATE_EPOCH ?? '');
  try {
    hash.update(
      execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: REPO_ROOT, encoding: 'utf8' }),
    );
  } catch {
    // Not a git checkout: the builder falls back to time 0 as well.
  }
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(CACHE_ROOT, `release-${key}`);
  const tarball = join(dir, `${RELEASE_NAME}.tar.gz`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(CACHE_ROOT, { recursive: true });
  return withLock(join(CACHE_ROOT, 'release.lock'), async () => {
    if (existsSync(tarball)) return tarball;
    for (const old of readdirSync(CACHE_ROOT).filter((n) => /^release-[0-9a-f]{16}/.test(n)))
      rmSync(join(CACHE_ROOT, old), { recursive: true, force: true });
    const temp = `${dir}.tmp-${process.pid}`;
    try {
      await buildRelease(temp);
      renameSync(temp, dir);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
    return tarball;
  });
}

/** Runs `fn` holding a lock directory; a lock older than `staleMs` is a crashed run's. */
async function withLock<T>(lock: string, fn: () => Promise<T>, staleMs = 20 * 60_000): Promise<T> {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > staleMs) rmSync(lock, { recursive: true });
      } catch {
        // released meanwhile
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const ROOTFS_CACHE = process.env.AIRLOCK_TEST_ROOTFS ?? '/var/cache/airlock-test/bookworm-minbase';

/**
 * A Debian 12 minbase root file system, made once by debootstrap and renamed into place whole,
 * so a cache that exists is complete. Parallel test files wait on a lock directory; a lock
 * older than the longest debootstrap is a crashed run's and is taken over.
 */
export async function bookwormMinbase(): Promise<string> {
  const complete = () => existsSync(join(ROOTFS_CACHE, 'usr/bin/env'));
  if (complete()) return ROOTFS_CACHE;
  mkdirSync(dirname(ROOTFS_CACHE), { recursive: true });
  return withLock(`${ROOTFS_CACHE}.lock`, async () => {
    if (complete()) return ROOTFS_CACHE;
    const temp = `${ROOTFS_CACHE}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    try {
      await run('debootstrap', ['--variant=minbase', 'bookworm', temp, debianMirror()], {
        timeout: 15 * 60_000,
        maxBuffer: 64 << 20,
      });
      renameSync(temp, ROOTFS_CACHE);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
    return ROOTFS_CACHE;
  });
}

/** The Debian mirror apt uses on this machine (deb822 or one-line sources), else Debian's CDN. */
function debianMirror(): string {
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.sources') || f.endsWith('.list')) files.push(`/etc/apt/sources.list.d/${f}`);
    }
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const urls = [
      ...text.matchAll(/^URIs:\s*(\S+)/gm),
      ...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/gm),
    ].map((m) => m[1]!);
    const main = urls.find((u) => /\/debian\/?$/.test(u));
    if (main) return main;
  }
  return 'http://deb.debian.org/debian';
}

/**
 * Runs a command chrooted into `root` with an empty environment but PATH, in a private mount
 * namespace where /proc is mounted (it goes away with the namespace: nothing to unmount) and,
 * unless `network` is set, an empty network namespace.
 */
export function startInRoot(
  root: string,
  path: string,
  args: string[],
  opts: { network?: boolean } = {},
): ChildProcess {
  return spawn(
    'unshare',
    [
      '--mount',
      ...(opts.network ? [] : ['--net']),
      'sh',
      '-c',
      'p=$1; shift; mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i HOME=/root "PATH=$p" "$@"',
      root,
      path,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves with the URL an `airlock serve` child prints once it listens. */
export function servedUrl(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`airlock serve did not start: ${seen}`)),
      timeoutMs,
    );
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      seen += d;
      const match = / at (http:\/\/[^/\s]+)\//.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`airlock serve exited with ${code}: ${seen}`));
    });
  });
}

export const PIP_ENV = {
  ...process.env,
  PIP_NO_CACHE_DIR: '1',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_CONFIG_FILE: '/dev/null',
  PIP_NO_INPUT: '1',
};

/** The host's real pip installs the fixture's `alpha` (and its closure) into `target` from
 * the served mirror alone; returns what `target` then holds. */
export async function pipInstallsAlpha(url: string, target: string): Promise<string[]> {
  await run(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--target',
      target,
      '--index-url',
      `${url}/pypi/latest/simple`,
      'alpha',
    ],
    { env: PIP_ENV, timeout: 120_000 },
  );
  return readdirSync(target);
}
