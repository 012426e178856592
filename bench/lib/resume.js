/**
 * Resume: SIGKILL `airlock download` of the large-files set when about half the payload has
 * left the upstream, run it again, and count what the upstream sent twice.
 *
 * The count is what the upstream handed to its sockets, so bytes still in loopback socket
 * buffers at the kill (a few MB per connection at most) count as re-fetched although airlock
 * never saw them: a floor that matters for a 100 MB payload and vanishes for 2 GB.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { airlock, startAirlock } from './airlock.js';
import { fresh, settle } from './measure.js';
import { sleep, treeSize } from './tools.js';

const POLL_MS = 5;

export async function benchResume(ctx) {
  const set = ctx.sets.large;
  const n = Math.max(...ctx.opts.concurrency);
  ctx.log(`resume: ${set.name} files (${set.count} files), killed at about half, ${n} connections`);
  const workspace = await fresh(join(ctx.workDir, 'resume-ws'));
  const args = ['download', '--config', set.config, '--workspace', workspace];
  args.push('--concurrency', String(n), '--json');
  const sentForSet = () => payloadBytesSent(ctx.upstream, set.paths);

  settle();
  ctx.upstream.resetLog();
  const first = startAirlock(args, { timeDir: ctx.workDir });
  const pid = await first.pid;
  let finished = false;
  first.done.finally(() => (finished = true));
  while (!finished && sentForSet() < set.bytes / 2) await sleep(POLL_MS);
  if (!finished) process.kill(pid, 'SIGKILL');
  const killed = await first.done;
  const atKill = sentForSet();
  if (killed.signal !== 'SIGKILL') {
    ctx.results.note(
      'resume',
      `the download finished before the kill (${atKill} bytes): use a larger --size`,
    );
    return;
  }
  const onDisk = await bytesOnDisk(workspace);
  const second = await airlock(args, { timeDir: ctx.workDir });
  const source = second.summary?.sources?.[0];
  if (second.code !== 0 || !source?.complete) {
    throw new Error(`airlock download after the kill did not complete:\n${second.stderr}`);
  }
  const total = sentForSet();
  const entry = {
    case: `${set.name} files, ${n} connections`,
    payload: set.bytes,
    killedAt: atKill / set.bytes,
    refetched: total - set.bytes,
    share: (total - set.bytes) / set.bytes,
    // What the kill cost, split: sent but never written (socket buffers, unflushed writes),
    // and written but fetched again anyway (what resume should have kept).
    lostInFlight: atKill - onDisk,
    refetchedFromDisk: total - atKill - (set.bytes - onDisk),
    rerunSeconds: second.seconds,
  };
  ctx.results.addResume(entry);
  ctx.log(
    `    killed at ${(entry.killedAt * 100).toFixed(0)} %; re-fetched ${(entry.refetched / 1e6).toFixed(2)} MB ` +
      `= ${(entry.share * 100).toFixed(2)} % of the payload (${(entry.lostInFlight / 1e6).toFixed(2)} MB ` +
      `sent but not on disk at the kill, ${(entry.refetchedFromDisk / 1e6).toFixed(2)} MB on disk but fetched again)`,
  );
}

/** Bytes the killed run left: finished blobs and partial downloads (tmp/*.part). */
async function bytesOnDisk(workspace) {
  const blobs = await treeSize(join(workspace, 'blobs'));
  let partial = 0;
  for (const name of await readdir(join(workspace, 'tmp')).catch(() => [])) {
    if (name.endsWith('.part')) partial += (await stat(join(workspace, 'tmp', name))).size;
  }
  return blobs.bytes + partial;
}

/** Body bytes the upstream sent for the set's files (pages and other requests excluded). */
function payloadBytesSent(upstream, paths) {
  let sum = 0;
  for (const entry of upstream.requests) {
    if (paths.has(entry.path.split('?')[0])) sum += entry.bytesSent;
  }
  return sum;
}
