/**
 * Spawning, timing and peak memory of the programs the bench compares.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -f ... -o FILE`, Debian package `time`): it
 * reports the kernel's ru_maxrss of the child, i.e. the largest resident set any process of
 * the measured command reached (for `sh -c 'cp ... && sha256sum ...'` the largest of them,
 * not their sum). Without GNU time the bench polls /proc/PID/status (VmRSS of the process
 * and its descendants, summed) every 50 ms and keeps the largest sum seen, which can miss a
 * spike shorter than 50 ms.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, readFileSync, statfsSync } from 'node:fs';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const POLL_MS = 50;
let timeFileSeq = 0;

/** The absolute path of an executable on PATH (or the path itself if absolute), or undefined. */
export function findTool(name) {
  const dirs = name.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter);
  for (const dir of dirs) {
    const full = dir ? join(dir, name) : name;
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here: keep looking
    }
  }
  return undefined;
}

const hasGnuTime = findTool(GNU_TIME) !== undefined;

export function rssMethod() {
  return hasGnuTime
    ? 'GNU time (/usr/bin/time): ru_maxrss of the command'
    : '/proc/PID/status VmRSS of the process tree, polled every 50 ms';
}

/**
 * Starts `cmd args`; returns { pid, done } where pid is the measured program itself (not the
 * GNU time wrapper, so signals reach it) once known, and done resolves to
 * { code, signal, seconds, cpuSeconds, peakRssMB, stdout? }.
 * opts: cwd, env, stdout ('ignore' | 'capture' | a file path), stderr (same), timeDir.
 */
export function start(cmd, args, opts = {}) {
  const timeFile = hasGnuTime
    ? join(opts.timeDir ?? opts.cwd ?? process.cwd(), `.time-${process.pid}-${++timeFileSeq}`)
    : undefined;
  const argv = timeFile ? ['-f', '%U %S %M', '-o', timeFile, cmd, ...args] : args;
  const began = process.hrtime.bigint();
  const child = spawn(timeFile ? GNU_TIME : cmd, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', stdioOf(opts.stdout), stdioOf(opts.stderr ?? 'capture')],
  });
  const captured = { stdout: [], stderr: [] };
  pipeOut(child.stdout, opts.stdout, captured.stdout);
  pipeOut(child.stderr, opts.stderr ?? 'capture', captured.stderr);
  const poller = timeFile ? undefined : pollRss(child.pid);
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const done = exited.then(async ({ code, signal }) => {
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const usage = timeFile ? await readTimeFile(timeFile) : poller.stop();
    const stderr = Buffer.concat(captured.stderr).toString();
    return {
      // GNU time exits with the command's code, or 128+N when a signal N killed it.
      code: usage.killedBy ? null : code,
      signal: usage.killedBy ?? signal,
      seconds,
      cpuSeconds: usage.cpuSeconds,
      peakRssMB: usage.peakRssMB,
      stdout: Buffer.concat(captured.stdout).toString(),
      stderr,
    };
  });
  const pid = timeFile ? childOf(child.pid) : Promise.resolve(child.pid);
  return { pid, done };
}

/** start() and wait; throws with the command's stderr when it exits non-zero. */
export async function run(cmd, args, opts = {}) {
  const result = await start(cmd, args, opts).done;
  if (result.code !== 0 && !opts.allowFailure) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${result.code ?? result.signal}:\n${result.stderr.slice(-2000)}`,
    );
  }
  return result;
}

/** Runs a shell command line (for references that are pipelines, like `cp && sha256sum`). */
export function runShell(line, opts = {}) {
  return run('/bin/sh', ['-c', line], opts);
}

/**
 * `cmd args` and then `sync -f dir` (syncfs of dir's file system), timed as one: the
 * reference left with its output on disk, as airlock leaves its own. stdout is discarded.
 */
export function runThenSync(cmd, args, dir, opts = {}) {
  const line = [cmd, ...args].map(shellQuote).join(' ');
  return runShell(`${line} > /dev/null && sync -f ${shellQuote(dir)}`, opts);
}

function shellQuote(word) {
  return `'${String(word).replace(/'/g, `'\\''`)}'`;
}

function stdioOf(spec) {
  return spec === undefined || spec === 'ignore' ? 'ignore' : 'pipe';
}

function pipeOut(stream, spec, chunks) {
  if (!stream) return;
  if (spec === 'capture') stream.on('data', (c) => chunks.push(c));
  else stream.pipe(createWriteStream(spec));
}

async function readTimeFile(file) {
  const text = await readFile(file, 'utf8').catch(() => '');
  await rm(file, { force: true });
  const lines = text.trim().split('\n');
  const killed = lines.find((l) => l.startsWith('Command terminated by signal'));
  const [user, sys, maxKB] = (lines.at(-1) ?? '').split(' ').map(Number);
  return {
    cpuSeconds: (user ?? 0) + (sys ?? 0),
    peakRssMB: (maxKB ?? 0) / 1024,
    killedBy: killed ? signalName(Number(killed.split(' ').at(-1))) : undefined,
  };
}

function signalName(number) {
  return { 9: 'SIGKILL', 15: 'SIGTERM', 2: 'SIGINT' }[number] ?? `signal ${number}`;
}

/** The pid GNU time forked; it appears a moment after the spawn. */
async function childOf(pid) {
  for (let i = 0; i < 200; i++) {
    const kids = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
    const first = kids.trim().split(' ')[0];
    if (first) return Number(first);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`cannot find the process started by ${GNU_TIME} (pid ${pid})`);
}

function pollRss(rootPid) {
  let peakKB = 0;
  const tick = () => {
    const total = treeOf(rootPid).reduce((sum, pid) => sum + vmRssKB(pid), 0);
    peakKB = Math.max(peakKB, total);
  };
  const timer = setInterval(tick, POLL_MS);
  tick();
  return {
    stop: () => {
      clearInterval(timer);
      return { cpuSeconds: NaN, peakRssMB: peakKB / 1024, killedBy: undefined };
    },
  };
}

function treeOf(pid) {
  let kids = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ');
  } catch {
    return [];
  }
  return [pid, ...kids.filter(Boolean).flatMap((k) => treeOf(Number(k)))];
}

function vmRssKB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Bytes free for an unprivileged writer on the file system holding dir. */
export function freeBytes(dir) {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** { files, bytes } of the regular files under dir. */
export async function treeSize(dir) {
  let files = 0;
  let bytes = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath ?? e.path, e.name))).size;
  }
  return { files, bytes };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
