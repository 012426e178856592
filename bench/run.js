#!/usr/bin/env node
/**
 * airlock beside the tools an operator would otherwise script together (issue 7), on
 * loopback against the fixture upstream. `npm run bench -- --help` for the options;
 * BENCHMARKS.md for the method and the latest figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { airlock, airlockHas } from './lib/airlock.js';
import { benchBundle, benchVerify } from './lib/bundle.js';
import { SIZES, payloadBytes, prepareFixture, startData } from './lib/data.js';
import { benchDownload } from './lib/download.js';
import { benchImport } from './lib/import.js';
import { fresh } from './lib/measure.js';
import { Results } from './lib/report.js';
import { benchResume } from './lib/resume.js';
import { benchServe } from './lib/serve.js';
import { findTool, freeBytes, rssMethod } from './lib/tools.js';
import { formatTop, topFunctions } from './top-profile.js';

const STAGES = {
  download: { needs: ['download'], run: benchDownload },
  resume: { needs: ['download'], run: benchResume },
  bundle: { needs: ['download', 'bundle'], run: benchBundle },
  verify: { needs: ['download', 'bundle', 'verify'], run: benchVerify },
  import: { needs: ['download', 'bundle', 'import'], run: benchImport },
  serve: { needs: ['download', 'bundle', 'import', 'serve'], run: benchServe },
};
/** Peak disk use in payloads: fixture, workspace, bundle, imported repo and one reference copy. */
const DISK_FACTOR = 5.5;

const USAGE = `usage: npm run bench -- [options]
  --size small|medium|large   data set (default small):
                              small:  2,000 files of 5-100 KiB + 1 MiB + 2 x 50 MiB  (~0.2 GB, a few minutes)
                              medium: 5,000 files of 5-100 KiB + 1.25 GiB in 7 files (~1.6 GB)
                              large:  200,000 files of 5-30 KiB + 2 GiB in 5 files   (~5.6 GB, hours)
  --only STAGES               comma list of ${Object.keys(STAGES).join(',')}
  --concurrency LIST          connection counts for download (default 4,8,16)
  --runs N                    timed runs per measurement; the median is kept (default 1)
  --serve-connections N       open connections wrk keeps to the server in the serve stage (default 50)
  --cpu-prof                  also profile one airlock download of the small files
  --airlock-only              run airlock alone: no reference tools (figures and peak RSS only;
                              how the large size is measured in reasonable time)
  --keep                      keep the work directory (a later run with BENCH_DIR reuses the fixture)
  --out DIR                   results.json and results.md (default bench/out)
environment: BENCH_DIR=DIR    work in DIR/airlock-bench (default: a new directory under ${tmpdir()})`;

async function main() {
  const opts = parseOptions();
  if (!opts) return 0;
  const scale = SIZES[opts.size];
  // Under BENCH_DIR, a folder of our own: cleaning up must never touch what else is there.
  const workDir = process.env.BENCH_DIR
    ? join(resolve(process.env.BENCH_DIR), 'airlock-bench')
    : await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  await mkdir(workDir, { recursive: true });
  checkDisk(workDir, scale, opts.size);
  // --airlock-only keeps what airlock itself is measured through (the proxy, the load generator).
  const wanted = opts.airlockOnly
    ? ['tinyproxy', 'wrk']
    : ['aria2c', 'curl', 'tinyproxy', 'tar', 'sha256sum', 'wrk', 'nginx'];
  const tools = Object.fromEntries(wanted.map((t) => [t, findTool(t)]));
  const results = new Results();
  // Other work on the machine skews every figure: the load average says how much there was.
  const loadAtStart = loadNow();
  const log = (line) => console.log(line);
  console.log(`work directory: ${workDir}\npeak RSS: ${rssMethod()}`);

  const fixture = await prepareFixture(workDir, scale, log);
  const { upstream, sets } = await startData(workDir, fixture);
  const ctx = { workDir, opts, tools, results, log, upstream, sets };
  let failed = false;
  try {
    for (const name of opts.only) {
      const stage = STAGES[name];
      const missing = stage.needs.filter((c) => !airlockHas(c));
      if (missing.length > 0) {
        results.note(
          name,
          `not available yet: this build has no \`airlock ${missing.join('`, `airlock ')}\``,
        );
        continue;
      }
      try {
        await stage.run(ctx);
      } catch (err) {
        failed = true;
        results.note(name, `failed: ${err.message.split('\n').slice(0, 6).join(' ')}`);
        console.error(err);
      }
    }
    if (opts.cpuProf) await profileDownload(ctx);
  } finally {
    await upstream.close();
  }

  const header = {
    size: opts.size,
    scale,
    date: new Date().toISOString(),
    machine: `${machine(workDir)}; load average at start ${loadAtStart}, at end ${loadNow()}`,
    options: opts,
  };
  console.log(`\n${await results.write(opts.out, header)}`);
  console.log(`written: ${join(opts.out, 'results.md')}, ${join(opts.out, 'results.json')}`);
  if (opts.keep || failed) console.log(`work directory kept: ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
  return failed ? 1 : 0;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'small' },
      only: { type: 'string', default: Object.keys(STAGES).join(',') },
      concurrency: { type: 'string', default: '4,8,16' },
      runs: { type: 'string', default: '1' },
      'serve-connections': { type: 'string', default: '50' },
      'cpu-prof': { type: 'boolean', default: false },
      'airlock-only': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/out' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const only = values.only.split(',').filter(Boolean);
  const concurrency = values.concurrency.split(',').map(Number);
  const runs = Number(values.runs);
  const serveConnections = Number(values['serve-connections']);
  const problem = !SIZES[values.size]
    ? `--size ${values.size}: expected small, medium or large`
    : only.find((s) => !STAGES[s])
      ? `--only: unknown stage ${only.find((s) => !STAGES[s])}`
      : concurrency.some((n) => !Number.isInteger(n) || n < 1)
        ? `--concurrency ${values.concurrency}: expected whole numbers, e.g. 4,8,16`
        : !Number.isInteger(runs) || runs < 1
          ? `--runs ${values.runs}: expected a whole number of at least 1`
          : !Number.isInteger(serveConnections) || serveConnections < 1
            ? `--serve-connections ${values['serve-connections']}: expected a whole number of at least 1`
            : undefined;
  if (problem) throw Object.assign(new Error(`${problem}\n${USAGE}`), { usage: true });
  // Stages run in data-flow order whatever order --only lists them in.
  const ordered = Object.keys(STAGES).filter((s) => only.includes(s));
  return {
    size: values.size,
    only: ordered,
    concurrency,
    runs,
    serveConnections,
    cpuProf: values['cpu-prof'],
    airlockOnly: values['airlock-only'],
    keep: values.keep,
    out: resolve(values.out),
  };
}

function checkDisk(workDir, scale, size) {
  const need = payloadBytes(scale) * DISK_FACTOR;
  const free = freeBytes(workDir);
  const gb = (n) => (n / 1e9).toFixed(1);
  console.log(
    `size ${size}: payload ${gb(payloadBytes(scale))} GB, needs about ${gb(need)} GB free in ${workDir} (free: ${gb(free)} GB)`,
  );
  if (free < need) {
    throw Object.assign(
      new Error(`not enough free disk in ${workDir}: set BENCH_DIR to a larger file system`),
      {
        usage: true,
      },
    );
  }
}

/** One airlock download of the small files under `node --cpu-prof`, and its hottest functions. */
async function profileDownload(ctx) {
  const dir = await fresh(join(ctx.opts.out, 'profile'));
  const workspace = await fresh(join(ctx.workDir, 'profile-ws'));
  const n = Math.max(...ctx.opts.concurrency);
  const set = ctx.sets.small;
  console.log(`\nprofiling: airlock download of ${set.count} small files, ${n} connections`);
  await airlock(
    ['download', '--config', set.config, '--workspace', workspace, '--concurrency', String(n)],
    {
      nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
      timeDir: ctx.workDir,
    },
  );
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  console.log(
    `${join(dir, file)}: top 15 functions by self time\n${formatTop(topFunctions(join(dir, file)))}`,
  );
  await rm(workspace, { recursive: true, force: true });
}

function loadNow() {
  return loadavg()[0].toFixed(1);
}

function machine(workDir) {
  const fsType = execFileSync('stat', ['-f', '-c', '%T', workDir], { encoding: 'utf8' }).trim();
  const cpu = cpus();
  return (
    `${cpu.length} CPUs (${cpu[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
    `Linux ${release()}, Node ${process.version}, work dir on ${fsType}`
  );
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err.usage ? `bench: ${err.message}` : err);
    process.exitCode = err.usage ? 2 : 1;
  },
);
