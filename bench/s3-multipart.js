// Multipart part size and parallelism against a real S3-compatible server (s3rver, in its own
// process): uploads one large random blob through S3Storage.writeStream, each configuration in
// a fresh child process, and reports wall time, throughput and the child's peak RSS.
//   npm run build && node bench/s3-multipart.js [--mib 256] [--runs 3]
// s3rver writes every part to its own disk and re-reads them to assemble the object, so the
// absolute MB/s is s3rver's; what the comparison shows is how the uploader's memory and time
// move with part size and parts in flight.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomFillSync } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
const CONFIGS = [
  [8, 2],
  [8, 4],
  [16, 2],
  [16, 4],
];

if (process.argv[2] === '--child') {
  const [, , , endpoint, file, size, partMiB, inFlight, key] = process.argv;
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { S3Storage } = await import('../dist/repo/s3-storage.js');
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const storage = new S3Storage({
    bucket: 'packages',
    prefix: 'bench',
    client,
    partSize: Number(partMiB) * MiB,
    partsInFlight: Number(inFlight),
  });
  const started = performance.now();
  await storage.writeStream(key, createReadStream(file, { highWaterMark: MiB }), Number(size));
  const seconds = (performance.now() - started) / 1000;
  await storage.close();
  process.stdout.write(
    `${JSON.stringify({ seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
  process.exit(0);
}

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' } },
});
const size = Number(values.mib) * MiB;
const runs = Number(values.runs);
const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-s3-'));
const file = join(dir, 'blob');
await writeFile(file, randomFillSync(Buffer.alloc(size)));
const s3dir = join(dir, 's3rver');
const s3rver = spawn(
  process.execPath,
  ['--openssl-legacy-provider', join(here, '../test/repo/s3rver-child.mjs'), s3dir],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const port = await new Promise((resolve) =>
  createInterface({ input: s3rver.stdout }).once('line', (l) => resolve(JSON.parse(l).port)),
);
const endpoint = `http://127.0.0.1:${port}`;

function once(partMiB, inFlight, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--child',
        endpoint,
        file,
        String(size),
        String(partMiB),
        String(inFlight),
        `b${partMiB}-${inFlight}-${n}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`)),
    );
  });
}

console.log(`${values.mib} MiB blob into s3rver, ${runs} runs each (median by time)`);
console.log('part MiB | in flight | seconds | MB/s | peak RSS MB');
for (let n = 0; n < runs; n++) {
  // Interleaved rounds, so a slow moment of the shared machine hits every configuration.
  for (const config of CONFIGS) {
    const result = await once(config[0], config[1], n);
    (config.results ??= []).push(result);
    (config.runsInOrder ??= []).push(result);
  }
}
for (const config of CONFIGS) {
  const sorted = [...config.results].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const rss = Math.max(...config.results.map((r) => r.maxRssMB));
  console.log(
    `${config[0]} | ${config[1]} | ${median.seconds.toFixed(2)} | ${(size / 1e6 / median.seconds).toFixed(0)} | ${rss.toFixed(0)} (max of runs)` +
      ` | runs in order: ${config.runsInOrder.map((r) => `${r.seconds.toFixed(1)} s ${r.maxRssMB.toFixed(0)} MB`).join(', ')}`,
  );
}
s3rver.stdin.end();
await new Promise((r) => s3rver.once('exit', r));
spawnSync('sync');
await rm(dir, { recursive: true, force: true });
