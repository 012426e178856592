/**
 * Bundle and verify: `airlock bundle` beside `tar -cf` of the same blobs, `airlock verify`
 * beside `sha256sum` of the parts. Both work on one workspace holding every file of the set.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { airlock } from './airlock.js';
import { fetchWith, mb, usage } from './download.js';
import { fresh, medianOf } from './measure.js';
import { run, runThenSync, treeSize } from './tools.js';

/** The workspace with the whole set (small and large files), downloaded once. */
export async function ensureWorkspace(ctx) {
  if (ctx.workspace) return ctx.workspace;
  const set = ctx.sets.all;
  const n = Math.max(...ctx.opts.concurrency);
  const dir = await fresh(join(ctx.workDir, 'workspace'));
  ctx.log(`downloading the whole set into one workspace (${set.count} files, ${mb(set.bytes)} MB)`);
  ctx.upstream.resetLog();
  const result = await fetchWith.airlock(ctx, set, n, dir);
  ctx.results.add({
    stage: 'download',
    case: `all files, ${n} connections (the workspace bundled below)`,
    set: 'all',
    tool: 'airlock',
    files: set.count,
    bytes: set.bytes,
    ...usage(result),
  });
  ctx.upstream.resetLog();
  ctx.workspace = { dir, blobs: await treeSize(join(dir, 'blobs')) };
  return ctx.workspace;
}

export async function benchBundle(ctx) {
  const ws = await ensureWorkspace(ctx);
  const { files, bytes } = ws.blobs;
  ctx.log(`bundle: ${files} blobs, ${mb(bytes)} MB`);
  const out = join(ctx.workDir, 'bundle');
  const tarDir = join(ctx.workDir, 'tar');
  // Every timed run rewrites `out`: what is on disk afterwards is the LAST run's bundle, which
  // is what verify and import must read (not the median run's, whose files are gone).
  let last;
  const bundleOnce = async () =>
    (last = await airlock(bundleArgs(ws.dir, out), { timeDir: ctx.workDir }));
  const tarArgs = ['-cf', join(tarDir, 'blobs.tar'), '-C', join(ws.dir, 'blobs'), '.'];
  const tarOnce = () => run(ctx.tools.tar, tarArgs, { timeDir: ctx.workDir });
  const row = { stage: 'bundle', case: `${files} blobs`, files, bytes };

  await fresh(out); // warm-up: blobs into the page cache, airlock's code compiled
  await bundleOnce();
  const mine = await medianOf(ctx.opts.runs, bundleOnce, () => fresh(out));
  ctx.results.add({ ...row, tool: 'airlock', ...usage(mine) });
  ctx.bundle = await bundleFiles(out, last.summary);
  if (!ctx.tools.tar) {
    if (!ctx.opts.airlockOnly) ctx.results.note('bundle', 'tar -cf skipped: install tar');
    return;
  }
  await fresh(tarDir);
  await tarOnce();
  const ref = await medianOf(ctx.opts.runs, tarOnce, () => fresh(tarDir));
  ctx.results.add({ ...row, tool: 'tar -cf', ...usage(ref) });
  // airlock's parts are on disk when it returns (fsynced before the manifest); tar's archive
  // is dirty page cache. `sync -f` (syncfs) writes it out too.
  const tarSyncedOnce = () => runThenSync(ctx.tools.tar, tarArgs, tarDir, { timeDir: ctx.workDir });
  await fresh(tarDir);
  const synced = await medianOf(ctx.opts.runs, tarSyncedOnce, () => fresh(tarDir));
  ctx.results.add({ ...row, tool: 'tar -cf + sync', ...usage(synced) });
  await rm(tarDir, { recursive: true, force: true });
}

/** The bundle verify and import read: the last one the bundle stage wrote, or a new one. */
export async function ensureBundle(ctx) {
  if (ctx.bundle) return ctx.bundle;
  const ws = await ensureWorkspace(ctx);
  const out = await fresh(join(ctx.workDir, 'bundle'));
  ctx.log('writing a bundle for the stages below');
  const result = await airlock(bundleArgs(ws.dir, out), { timeDir: ctx.workDir });
  ctx.bundle = await bundleFiles(out, result.summary);
  return ctx.bundle;
}

export async function benchVerify(ctx) {
  const bundle = await ensureBundle(ctx);
  ctx.log(`verify: ${bundle.parts.length} part(s), ${mb(bundle.bytes)} MB`);
  const row = {
    stage: 'verify',
    case: `${bundle.parts.length} part(s)`,
    files: bundle.blobs,
    bytes: bundle.bytes,
  };
  const verifyOnce = async () => {
    const result = await airlock(['verify', bundle.manifest, '--json'], { timeDir: ctx.workDir });
    if (!result.summary?.ok) throw new Error(`airlock verify failed:\n${result.stderr}`);
    return result;
  };
  await verifyOnce();
  const mine = await medianOf(ctx.opts.runs, verifyOnce);
  ctx.results.add({ ...row, tool: 'airlock', ...usage(mine) });
  if (!ctx.tools.sha256sum) {
    if (!ctx.opts.airlockOnly) ctx.results.note('verify', 'sha256sum skipped: install coreutils');
    return;
  }
  const sumOnce = () =>
    run(ctx.tools.sha256sum, bundle.parts, { timeDir: ctx.workDir, stdout: 'ignore' });
  await sumOnce();
  const ref = await medianOf(ctx.opts.runs, sumOnce);
  ctx.results.add({ ...row, tool: 'sha256sum', ...usage(ref) });
}

function bundleArgs(workspace, out) {
  return ['bundle', '--workspace', workspace, '--out', out, '--full', '--json'];
}

async function bundleFiles(dir, summary) {
  if (!summary?.manifestPath) throw new Error(`airlock bundle wrote no manifest in ${dir}`);
  const names = (await readdir(dir)).filter((n) => /\.(tar|part\d+)$/.test(n)).sort();
  const parts = names.map((n) => join(dir, n));
  let bytes = 0;
  for (const p of parts) bytes += (await stat(p)).size;
  return { dir, manifest: summary.manifestPath, parts, bytes, blobs: summary.blobCount };
}
