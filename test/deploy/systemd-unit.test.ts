/**
 * samples/systemd/airlock-serve.service is a valid unit and stays hardened: systemd-analyze
 * verifies it and rates its exposure (offline: no running systemd is needed). Its ExecStart
 * names the release's launcher under /opt/airlock, which does not exist here: the check runs
 * on a copy pointing at this checkout's launcher.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, run, toolsMissing } from './deploy-harness.js';

const need = toolsMissing([{ command: 'systemd-analyze', pkg: 'systemd' }], { root: false });
const UNIT = join(REPO_ROOT, 'samples/systemd/airlock-serve.service');

describe.skipIf(need.skip !== undefined)('the hardened airlock-serve.service sample', () => {
  it('verifies, runs as its own user with the repository read-only, and rates an exposure of 2.0 or less', async () => {
    if (need.failure) throw new Error(need.failure);
    const text = readFileSync(UNIT, 'utf8');
    for (const line of [
      'User=airlock',
      'ReadOnlyPaths=/srv/repo',
      'ProtectSystem=strict',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
    ])
      expect(text).toContain(`\n${line}\n`);
    const dir = mkdtempSync(join(tmpdir(), 'airlock-systemd-'));
    try {
      const copy = join(dir, 'airlock-serve.service');
      writeFileSync(
        copy,
        text.replaceAll('/opt/airlock/bin/airlock', join(REPO_ROOT, 'bin/airlock.js')),
      );
      const verify = await run('systemd-analyze', ['verify', copy]);
      expect(verify.stderr).toBe('');
      // The threshold is in tenths of the printed level: exit 1 above 2.0 ("OK" is under 4.0).
      const security = execFileSync(
        'systemd-analyze',
        ['security', '--offline=true', '--threshold=20', '--no-pager', copy],
        { encoding: 'utf8' },
      );
      expect(security).toMatch(
        /Overall exposure level for airlock-serve\.service: (1\.\d|2\.0) OK/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
