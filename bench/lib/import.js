/**
 * Import: `airlock import` into a directory beside `cp -r` of the blobs + `sha256sum` of the
 * copies (what an operator would script), and into s3rver (no reference: throughput and RSS).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';
import { airlock } from './airlock.js';
import { ensureBundle, ensureWorkspace } from './bundle.js';
import { mb, usage } from './download.js';
import { fresh, medianOf } from './measure.js';
import { runShell } from './tools.js';

export async function benchImport(ctx) {
  const bundle = await ensureBundle(ctx);
  const ws = await ensureWorkspace(ctx);
  const { files, bytes } = ws.blobs;
  ctx.log(`import into a directory: ${files} blobs, ${mb(bytes)} MB`);
  const repo = join(ctx.workDir, 'repo');
  const row = { stage: 'import', case: `${files} blobs into a directory`, files, bytes };
  const importOnce = () => importInto(ctx, bundle, repo);
  await fresh(repo);
  await importOnce();
  const mine = await medianOf(ctx.opts.runs, importOnce, () => fresh(repo));
  ctx.results.add({ ...row, tool: 'airlock', ...usage(mine) });
  ctx.repo = repo;

  if (!ctx.opts.airlockOnly) await benchCopy(ctx, ws, row);
  await benchImportS3(ctx, bundle, row);
}

/** The reference: cp -r of the blobs and sha256sum of the copies (then the same + sync). */
async function benchCopy(ctx, ws, row) {
  const copy = join(ctx.workDir, 'copy');
  // sha256sum reads the copies, as an operator checking what landed would.
  const line =
    `cp -r '${join(ws.dir, 'blobs')}' '${copy}/blobs' && ` +
    `find '${copy}/blobs' -type f -print0 | xargs -0 sha256sum > /dev/null`;
  const copyOnce = () => runShell(line, { timeDir: ctx.workDir });
  await fresh(copy);
  await copyOnce();
  const ref = await medianOf(ctx.opts.runs, copyOnce, () => fresh(copy));
  ctx.results.add({ ...row, tool: 'cp + sha256sum', ...usage(ref) });
  // airlock's import returns with every blob fsynced and published; cp leaves its copies
  // dirty in the page cache. `sync -f` (syncfs) puts them on disk too.
  const syncedOnce = () => runShell(`${line} && sync -f '${copy}'`, { timeDir: ctx.workDir });
  await fresh(copy);
  const synced = await medianOf(ctx.opts.runs, syncedOnce, () => fresh(copy));
  ctx.results.add({ ...row, tool: 'cp + sha256sum + sync', ...usage(synced) });
  await rm(copy, { recursive: true, force: true });
}

async function benchImportS3(ctx, bundle, row) {
  const directory = await fresh(join(ctx.workDir, 's3rver'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: 'bench', configs: [] }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  ctx.log(`import into s3rver (${endpoint}); s3rver runs in the bench process`);
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  };
  try {
    const result = await importInto(
      ctx,
      bundle,
      's3://bench/repo',
      ['--s3-endpoint', endpoint],
      env,
    );
    ctx.results.add({
      ...row,
      case: `${row.files} blobs into s3rver`,
      tool: 'airlock',
      ...usage(result),
    });
  } finally {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
}

async function importInto(ctx, bundle, repo, extra = [], env = process.env) {
  const args = ['import', bundle.manifest, '--repo', repo, ...extra, '--json'];
  const result = await airlock(args, { timeDir: ctx.workDir, env, allowFailure: true });
  if (result.code !== 0) throw new Error(`airlock import into ${repo} failed:\n${result.stderr}`);
  return result;
}

/** The imported directory repository serve reads: the import stage's, or a new one. */
export async function ensureRepo(ctx) {
  if (ctx.repo) return ctx.repo;
  const bundle = await ensureBundle(ctx);
  const repo = await fresh(join(ctx.workDir, 'repo'));
  ctx.log('importing the bundle into a directory for the serve stage');
  await importInto(ctx, bundle, repo);
  ctx.repo = repo;
  return repo;
}
