/**
 * `airlock demo` leaves no trace it was not asked to keep: Ctrl-C removes its own temp dir
 * (and stops its servers), a re-run with the same --dir works (what the earlier run left is
 * cleared), and a --dir holding other files is refused, untouched.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, runAirlock, startAirlock } from '../helpers/cli.js';

const work = mkdtempSync(join(tmpdir(), 'airlock-demo-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('airlock demo', () => {
  it('runs again with the same --dir', async () => {
    const dir = join(work, 'again');
    const first = await runAirlock(['demo', '--no-serve', '--dir', dir]);
    expect(first.code, first.stderr).toBe(0);
    const second = await runAirlock(['demo', '--no-serve', '--dir', dir]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`done: repository in ${join(dir, 'repo')}`);
  }, 240_000);

  it('refuses a --dir that holds something else, and leaves it alone', async () => {
    const dir = join(work, 'mine');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const res = await runAirlock(['demo', '--no-serve', '--dir', dir]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`--dir ${dir} is not empty and holds no earlier demo`);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('Ctrl-C while it serves stops it and removes its temp dir', async () => {
    const child = startAirlock(['demo', '--port', '0']);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const done = collect(child);
    const started = Date.now();
    while (!stdout.includes('Stop the server with Ctrl-C')) {
      if (child.exitCode !== null || Date.now() - started > 180_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const root = /== airlock demo in (\S+)/.exec(stdout)?.[1];
    expect(root, stdout).toBeDefined();
    expect(existsSync(root!)).toBe(true);
    child.kill('SIGINT');
    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    expect(existsSync(root!)).toBe(false);
  }, 240_000);
});
