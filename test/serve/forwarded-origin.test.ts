/**
 * Behind a load balancer or TLS terminator, the landing page's client lines name the URL
 * clients use (X-Forwarded-Proto / X-Forwarded-Host), not the hop between proxy and server.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../src/serve/server.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness;
let server: RunningServer;

beforeAll(async () => {
  h = await createHarness();
  server = await h.start();
});
afterAll(() => h.cleanup());

async function landing(headers: Record<string, string>): Promise<string> {
  const res = await request(`${server.url}/`, { headers });
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

describe('the landing page behind a proxy', () => {
  test('a TLS terminator: https URLs on the public host, no trusted-host line for pip', async () => {
    const html = await landing({
      host: '10.0.0.7:4242',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'packages.example.org',
    });
    expect(html).toContain(
      'options(repos = c(CRAN = &quot;https://packages.example.org/cran/latest&quot;))',
    );
    expect(html).toContain('index-url = https://packages.example.org/pypi/latest/simple');
    expect(html).toContain('UV_INDEX_URL=https://packages.example.org/pypi/latest/simple');
    expect(html).not.toContain('trusted-host');
    expect(html).not.toContain('10.0.0.7');
  });

  test('several proxies in a row: the first (client-facing) value of each list wins', async () => {
    const html = await landing({
      host: 'backend:4242',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': 'mirror.example:8443, lb.internal',
    });
    expect(html).toContain('https://mirror.example:8443/cran/latest');
    expect(html).not.toContain('lb.internal');
  });

  test('only the scheme forwarded: the Host header gives the host', async () => {
    const html = await landing({ host: 'mirror.example', 'x-forwarded-proto': 'https' });
    expect(html).toContain('https://mirror.example/pypi/latest/simple');
  });

  test('odd forwarded values are ignored, never echoed into the page', async () => {
    const html = await landing({
      host: 'mirror.example:4242',
      'x-forwarded-proto': 'javascript',
      'x-forwarded-host': 'evil.example/"><script>',
    });
    expect(html).toContain('http://mirror.example:4242/cran/latest');
    expect(html).toContain('trusted-host = mirror.example');
    expect(html).not.toContain('evil.example');
    expect(html).not.toContain('javascript');
  });
});
