/**
 * An interrupted `airlock bundle` (SIGKILL mid-write) leaves nothing that looks complete, and
 * a re-run succeeds. The child runs the compiled module from dist/ (`npm test` builds it first
 * through `pretest`; this file builds it too when dist/ is missing or older than src/bundle/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../src/bundle/verify.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';
import { makeFixture, type Fixture } from './bundle-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./child-bundle.mjs', import.meta.url));
const COMPILED = join(ROOT, 'dist/bundle/index.js');
const PART = 1024 * 1024;

beforeAll(() => {
  const newest = Math.max(
    ...readdirSync(join(ROOT, 'src/bundle')).map(
      (f) => statSync(join(ROOT, 'src/bundle', f)).mtimeMs,
    ),
  );
  if (existsSync(COMPILED) && statSync(COMPILED).mtimeMs >= newest) return;
  // Type errors elsewhere in src/ do not stop tsc from emitting; only the output matters here.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(COMPILED))
    throw new Error('could not build dist/bundle/index.js: run `npm run build`');
}, 120_000);

let fx: Fixture;
let desc: string;
const record = (): string => join(fx.root, 'recorded.json');
const children = new Set<ReturnType<typeof spawn>>();

beforeEach(async () => {
  fx = await makeFixture();
  await fx.ws.addSnapshot(
    { source: 'cran', snapshot: '2026-11-01' },
    Array.from({ length: 10 }, (_, i) => ({
      path: `src/contrib/p${i}_1.0.tar.gz`,
      bytes: randomFile(4 * 1024 * 1024),
    })),
  );
  desc = join(fx.root, 'workspace.json');
  await writeFile(desc, fx.ws.describe());
});
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await fx.cleanup();
});

function runChild(): {
  child: ReturnType<typeof spawn>;
  exit: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [CHILD, desc, fx.out, record(), String(PART)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, exit };
}

async function waitForFirstPart(): Promise<void> {
  for (;;) {
    if ((await readdir(fx.out)).some((f) => /\.part\d+$/.test(f))) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('an interrupted bundle', () => {
  it('leaves no manifest, records nothing, and a re-run produces a bundle that verifies', async () => {
    const first = runChild();
    await Promise.race([waitForFirstPart(), first.exit]);
    first.child.kill('SIGKILL');
    const killed = await first.exit;
    expect(killed.signal).toBe('SIGKILL');

    const left = await readdir(fx.out);
    expect(left.some((f) => /\.part\d+$/.test(f))).toBe(true);
    expect(left.filter((f) => f.endsWith('.manifest.json'))).toEqual([]);
    expect(left.filter((f) => f.endsWith('.sig') || f === 'SHA256SUMS')).toEqual([]);
    expect(existsSync(record())).toBe(false);

    const second = runChild();
    const done = await second.exit;
    expect(done).toMatchObject({ code: 0, stderr: '' });
    const { manifestPath } = JSON.parse(done.stdout) as { manifestPath: string };
    const manifests = (await readdir(fx.out)).filter((f) => f.endsWith('.manifest.json'));
    expect(manifests.map((f) => join(fx.out, f))).toEqual([manifestPath]);
    expect(await verifyBundle(manifestPath)).toMatchObject({ blobs: 10, parts: 41 });
    expect(existsSync(record())).toBe(true);
  }, 30_000);
});
