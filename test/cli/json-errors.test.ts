/**
 * Under --json a failing command prints the error object on stdout too (issue 19, frictions):
 * a script parsing stdout learns the code, message, hint and exit code instead of reading
 * nothing. Also: --help lists the exit codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAirlock } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-json-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ErrorObject {
  ok: boolean;
  error: { code: string; message: string; hint: string | null; exitCode: number };
}

describe('--json on failure', () => {
  const typo = join(dir, 'typo');
  const cases: Array<[string, string[]]> = [
    ['status', ['status', '--workspace', typo, '--json']],
    ['bundle', ['bundle', '--workspace', typo, '--out', join(dir, 'usb'), '--json']],
    ['download', ['download', '--config', join(dir, 'none.yaml'), '--workspace', typo, '--json']],
    ['verify', ['verify', join(dir, 'none.manifest.json'), '--json']],
    ['import', ['import', join(dir, 'none.manifest.json'), '--repo', typo, '--json']],
    ['check', ['check', '--repo', typo, '--json']],
    ['a yargs refusal', ['bundle', '--json']],
  ];
  for (const [what, args] of cases) {
    it(`${what} prints {"ok":false,"error":{...}} on stdout with the exit code`, async () => {
      const res = await runAirlock(args);
      expect(res.code).toBe(2);
      const parsed = JSON.parse(res.stdout) as ErrorObject;
      expect(parsed.ok).toBe(false);
      expect(parsed.error).toMatchObject({ exitCode: 2 });
      expect(parsed.error.code).toMatch(/^E[A-Z]+$/);
      expect(parsed.error.message.length).toBeGreaterThan(10);
      expect(typeof parsed.error.hint).toBe('string');
      // The human message stays on stderr.
      expect(res.stderr).toContain(parsed.error.message);
    });
  }

  it('prints nothing on stdout without --json', async () => {
    const res = await runAirlock(['status', '--workspace', typo]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
  });
});

describe('--help', () => {
  it('lists the exit codes, for airlock and for each command', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['download', '--help']]) {
      const res = await runAirlock(args);
      expect(res.code).toBe(0);
      expect(res.stdout.replace(/\s+/g, ' ')).toMatch(
        /Exit codes: 0 done;.* 2 bad usage.* 3 .* 4 integrity.* 5 storage/,
      );
    }
  });

  it('describes every --json option and keeps each description apart from its type', async () => {
    for (const command of ['download', 'bundle', 'verify', 'import', 'status', 'check']) {
      const res = await runAirlock([command, '--help']);
      expect(res.stdout, command).toMatch(/--json\s+print one JSON summary/);
    }
    const serve = await runAirlock(['serve', '--help']);
    expect(serve.stdout).not.toMatch(/\S\[string\]/);
  });
});
