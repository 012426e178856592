/**
 * Download: `airlock download` beside `aria2c -i` and `curl --parallel` over the same URLs,
 * for the small-files set and the large-files set, at each concurrency level, then once more
 * through tinyproxy.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { airlock } from './airlock.js';
import { fresh, medianOf } from './measure.js';
import { run, runThenSync } from './tools.js';
import { startTinyproxy } from './tinyproxy.js';

export async function benchDownload(ctx) {
  const { sets, opts } = ctx;
  const top = Math.max(...opts.concurrency);
  for (const set of [sets.small, sets.large]) {
    ctx.log(`download: ${set.name} files (${set.count} files, ${mb(set.bytes)} MB)`);
    await warmUp(ctx, set, top);
    for (const n of opts.concurrency) {
      ctx.log(`  ${n} connections`);
      await compare(ctx, set, n, undefined, `${set.name} files, ${n} connections`);
    }
  }
  if (!ctx.tools.tinyproxy) {
    ctx.results.note(
      'download via proxy',
      'skipped: install tinyproxy (apt-get install tinyproxy)',
    );
    return;
  }
  const proxy = await startTinyproxy(ctx.tools.tinyproxy, ctx.workDir);
  try {
    for (const set of [sets.small, sets.large]) {
      ctx.log(`download through tinyproxy: ${set.name} files, ${top} connections`);
      await compare(
        ctx,
        set,
        top,
        proxy.url,
        `${set.name} files, ${top} connections, via tinyproxy`,
      );
    }
  } finally {
    await proxy.stop();
  }
}

/**
 * The first runs read the fixture from disk and JIT-compile the upstream and airlock; the
 * measured runs then all find the page cache warm.
 */
async function warmUp(ctx, set, n) {
  const dest = join(ctx.workDir, 'dl');
  await fresh(dest);
  await fetchWith.airlock(ctx, set, n, dest);
  if (ctx.tools.curl) {
    await fresh(dest);
    await fetchWith.curl(ctx, set, n, dest);
  }
  await rm(dest, { recursive: true, force: true });
}

async function compare(ctx, set, n, proxy, caseName) {
  const dest = join(ctx.workDir, 'dl');
  for (const tool of ['airlock', 'aria2c', 'aria2c + sync', 'curl']) {
    const needs = tool === 'aria2c + sync' ? 'aria2c' : tool;
    if (tool !== 'airlock' && !ctx.tools[needs]) {
      if (tool === 'aria2c + sync' || ctx.opts.airlockOnly) continue;
      ctx.results.note(
        'download',
        `${tool} skipped: install it (apt-get install ${tool === 'aria2c' ? 'aria2' : tool})`,
      );
      continue;
    }
    let result;
    try {
      result = await medianOf(
        ctx.opts.runs,
        () => fetchWith[tool](ctx, set, n, dest, proxy),
        async () => {
          ctx.upstream.resetLog(); // the log grows by one entry per request
          await fresh(dest);
        },
      );
    } catch (err) {
      // One tool failing (a bug, a crash) must not hide the other tools' figures.
      ctx.results.note('download', `${tool}, ${caseName}: failed: ${firstLines(err.message)}`);
      continue;
    }
    ctx.results.add({
      stage: 'download',
      case: caseName,
      set: set.name,
      tool,
      files: set.count,
      bytes: set.bytes,
      ...usage(result),
    });
  }
  await rm(dest, { recursive: true, force: true });
}

export const fetchWith = {
  async airlock(ctx, set, n, dest, proxy) {
    const args = ['download', '--config', set.config, '--workspace', dest];
    args.push('--concurrency', String(n), '--json', ...(proxy ? ['--proxy', proxy] : []));
    const result = await airlock(args, { timeDir: ctx.workDir, allowFailure: true });
    const source = result.summary?.sources?.[0];
    // `skipped` counts files the planner already stored (it may read wheels for metadata).
    const stored = (source?.fetched ?? 0) + (source?.skipped ?? 0);
    if (result.code !== 0 || !source?.complete || stored !== set.count || source.failed !== 0) {
      // Node exits 13 when its event loop empties while the top-level await is still pending.
      const why =
        result.code === 13 ? ' (exit 13: a promise never settled, nothing left to wait on)' : '';
      throw new Error(
        `airlock download exited ${result.code ?? result.signal}${why}, stored ${stored} of ${set.count}\n${result.stderr}`,
      );
    }
    return result;
  },

  async aria2c(ctx, set, n, dest, proxy) {
    const result = await run(ctx.tools.aria2c, aria2cArgs(set, n, dest, proxy), {
      timeDir: ctx.workDir,
      stdout: join(ctx.workDir, 'aria2c.log'),
    });
    await expectFiles(dest, set, 'aria2c');
    return result;
  },

  /**
   * aria2c leaves its files in the page cache; airlock returns only once every blob is on
   * disk (fsync before rename, directories synced before state.db names them). `sync -f`
   * (syncfs of the destination's file system) puts aria2c's files where airlock's are.
   */
  async 'aria2c + sync'(ctx, set, n, dest, proxy) {
    const result = await runThenSync(ctx.tools.aria2c, aria2cArgs(set, n, dest, proxy), dest, {
      timeDir: ctx.workDir,
    });
    await expectFiles(dest, set, 'aria2c');
    return result;
  },

  async curl(ctx, set, n, dest, proxy) {
    const args = ['--parallel', '--parallel-max', String(n), '-sS', '-f'];
    args.push('--output-dir', dest, '-K', set.curlConfig, ...(proxy ? ['-x', proxy] : []));
    const result = await run(ctx.tools.curl, args, { timeDir: ctx.workDir });
    await expectFiles(dest, set, 'curl');
    return result;
  },
};

/** A reference that fetched less than the set would be measured as faster than it is. */
async function expectFiles(dest, set, tool) {
  const names = (await readdir(dest)).filter((n) => n.endsWith('.whl'));
  if (names.length !== set.count) {
    throw new Error(`${tool} left ${names.length} of ${set.count} files in ${dest}`);
  }
}

function aria2cArgs(set, n, dest, proxy) {
  const args = ['-i', set.urlList, '-j', String(n), '-x', '1', '-d', dest];
  args.push('--allow-overwrite=true', '--auto-file-renaming=false');
  args.push('--console-log-level=warn', '--summary-interval=0');
  if (proxy) args.push(`--all-proxy=${proxy}`);
  return args;
}

export function firstLines(text, n = 4) {
  return text.split('\n').filter(Boolean).slice(0, n).join(' / ');
}

export function usage(result) {
  return { seconds: result.seconds, cpuSeconds: result.cpuSeconds, peakRssMB: result.peakRssMB };
}

export const mb = (bytes) => (bytes / 1e6).toFixed(1);
