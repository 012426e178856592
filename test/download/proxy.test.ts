import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTinyproxy, startTinyproxy, type Tinyproxy } from '../fetch/tinyproxy.js';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

const SNAP = '2026-11-01';
// Whatever the developer's shell has set must not leak into these runs.
const CLEAN_ENV = {
  HTTP_PROXY: undefined,
  HTTPS_PROXY: undefined,
  http_proxy: undefined,
  https_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
};

describe.skipIf(!haveTinyproxy)('airlock download through a real proxy (tinyproxy)', () => {
  let t: TestUpstream;
  let proxy: Tinyproxy;
  let authProxy: Tinyproxy;
  beforeAll(async () => {
    t = await withUpstream();
    proxy = await startTinyproxy();
    authProxy = await startTinyproxy({ basicAuth: ['mirror', 's3cret-pw'] });
  });
  afterAll(async () => {
    await proxy?.stop();
    await authProxy?.stop();
    await t?.close();
  });

  /** Requests for the upstream that the proxy logged. */
  async function proxied(p: Tinyproxy): Promise<number> {
    return (await p.log()).split('\n').filter((l) => l.includes(t.upstream.url)).length;
  }

  it('sends every request through --proxy and completes', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP, { sources: ['cran', 'pypi'] }));
    const before = await proxied(proxy);
    const res = await runAirlock(
      ['download', '--config', cfg, '--workspace', ws, '--proxy', proxy.url],
      CLEAN_ENV,
    );
    expect(res.code, res.stderr).toBe(0);
    const files = t.upstream.requests.length;
    expect(files).toBeGreaterThan(10);
    expect((await proxied(proxy)) - before).toBeGreaterThanOrEqual(10);
  });

  it('uses HTTP_PROXY from the environment, and NO_PROXY bypasses it', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP, { sources: ['cran'] }));
    const before = await proxied(proxy);
    const viaEnv = await runAirlock(['download', '--config', cfg, '--workspace', ws], {
      ...CLEAN_ENV,
      HTTP_PROXY: proxy.url,
    });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const afterEnv = await proxied(proxy);
    expect(afterEnv).toBeGreaterThan(before);

    const ws2 = t.tempDir('ws');
    const cfg2 = writeConfig(ws2, fixtureConfig(t.upstream.url, SNAP, { sources: ['cran'] }));
    const bypass = await runAirlock(['download', '--config', cfg2, '--workspace', ws2], {
      ...CLEAN_ENV,
      HTTP_PROXY: proxy.url,
      NO_PROXY: '127.0.0.1',
    });
    expect(bypass.code, bypass.stderr).toBe(0);
    expect(await proxied(proxy)).toBe(afterEnv);
  });

  it('authenticates with credentials in the proxy URL and never prints them', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP, { sources: ['cran'] }));
    const withAuth = authProxy.url.replace('http://', 'http://mirror:s3cret-pw@');
    const ok = await runAirlock(
      ['download', '--config', cfg, '--workspace', ws, '--proxy', withAuth],
      CLEAN_ENV,
    );
    expect(ok.code, ok.stderr).toBe(0);

    const ws2 = t.tempDir('ws');
    const cfg2 = writeConfig(ws2, fixtureConfig(t.upstream.url, SNAP, { sources: ['cran'] }));
    const wrong = authProxy.url.replace('http://', 'http://mirror:wrong-pw@');
    const denied = await runAirlock(
      ['download', '--config', cfg2, '--workspace', ws2, '--proxy', wrong],
      CLEAN_ENV,
    );
    expect(denied.code, denied.stderr).toBe(3);
    expect(denied.stderr).toMatch(/proxy/i);
    expect(denied.stdout + denied.stderr).not.toContain('wrong-pw');
  });
});
