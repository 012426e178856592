/**
 * The sample configs run as documented: `airlock demo --upstream-only` serves the sample
 * upstream, and every config in samples/ plans against it (`--dry-run`), with only the
 * upstream's address changed (the test's upstream listens on port 0, the samples name the
 * default 4343). Ctrl-C stops the upstream and removes its temp dir.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runAirlock, startAirlock, type CliResult } from '../helpers/cli.js';

const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
const CONFIGS = readdirSync(SAMPLES).filter(
  (f) => f.endsWith('.yaml') && /^sources:/m.test(readFileSync(join(SAMPLES, f), 'utf8')),
);

const tempsBefore = new Set(readdirSync(tmpdir()));
let child: ReturnType<typeof startAirlock>;
let done: Promise<CliResult>;
let url = '';
const work = mkdtempSync(join(tmpdir(), 'airlock-samples-'));

beforeAll(async () => {
  child = startAirlock(['demo', '--upstream-only', '--port', '0']);
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  done = collect(child);
  const started = Date.now();
  while (!/sample upstream: (http:\/\/\S+)/.test(stdout)) {
    if (Date.now() - started > 60_000 || child.exitCode !== null)
      throw new Error(`no upstream: ${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  url = /sample upstream: (http:\/\/\S+)/.exec(stdout)![1]!;
}, 90_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('samples/ against airlock demo --upstream-only', () => {
  it('finds the configs', () => {
    expect(CONFIGS).toEqual(
      expect.arrayContaining(['mirror.yaml', 'selection.yaml', 'pypi-subset.yaml']),
    );
  });

  it.each(CONFIGS)('%s plans against the sample upstream (--dry-run)', async (name) => {
    const dir = join(work, name.replace('.yaml', ''));
    cpSync(SAMPLES, dir, { recursive: true });
    const text = readFileSync(join(dir, name), 'utf8');
    expect(text).toContain('http://127.0.0.1:4343');
    writeFileSync(join(dir, name), text.replaceAll('http://127.0.0.1:4343', url));
    const res = await runAirlock([
      'download',
      '--config',
      join(dir, name),
      '--workspace',
      join(dir, 'ws'),
      '--dry-run',
      '--json',
    ]);
    expect(res.code, res.stderr).toBe(0);
    const plan = JSON.parse(res.stdout) as {
      sources: Array<{ source: string; files: number; problems: unknown[] }>;
    };
    for (const source of plan.sources) {
      expect(source.files, source.source).toBeGreaterThan(0);
      expect(source.problems, source.source).toEqual([]);
    }
  });

  it('Ctrl-C stops the upstream and removes its temp dir', async () => {
    child.kill('SIGINT');
    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    const left = readdirSync(tmpdir()).filter(
      (d) => d.startsWith('airlock-sample-upstream-') && !tempsBefore.has(d),
    );
    expect(left.filter((d) => existsSync(join(tmpdir(), d)))).toEqual([]);
  });
});
