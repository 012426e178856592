/**
 * How failed files are reported (issue 19, frictions): each line names the R version of a
 * Linux binary (one URL serves a file per R minor) and the URL once, not twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

describe('a failed binary download', () => {
  it('names its R version and its URL once, on stderr and in the summary', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(
      ws,
      fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['cran-binary'] }),
    );
    // Two kinds of failure: a hash mismatch, and a refusal whose message names the URL itself.
    t.upstream.setFaults([
      {
        match: /__linux__\/jammy\/2026-11-01\/src\/contrib\/airA[^/]+\.tar\.gz$/,
        kind: { type: 'corrupt' },
      },
      {
        match: /__linux__\/jammy\/2026-11-01\/src\/contrib\/air[^A][^/]*\.tar\.gz$/,
        kind: { type: 'status', status: 404 },
      },
    ]);
    const res = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    t.upstream.clearFaults();
    expect(res.code).toBe(4);
    const lines = `${res.stdout}\n${res.stderr}`
      .split('\n')
      .filter((l) => /warning: .*tar\.gz|failed: /.test(l));
    expect(lines.length).toBeGreaterThan(0);
    const seen = new Set<string>();
    for (const line of lines) {
      // The source file at the same URL (for clients that send no R version) has no R tag.
      const r = /\[R (4\.[34])\]/.exec(line);
      if (r) seen.add(r[1]!);
      const urls = line.match(/https?:\/\/\S+?\.tar\.gz/g) ?? [];
      expect(urls, line).toHaveLength(1);
    }
    expect([...seen].sort()).toEqual(['4.3', '4.4']);
  });
});
