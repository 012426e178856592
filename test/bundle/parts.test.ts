import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BundleSummary } from '../../src/bundle/events.js';
import { parseManifest } from '../../src/bundle/manifest.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { writeBundle } from '../../src/bundle/write.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';
import { addFirstSnapshot, listOut, makeFixture, type Fixture } from './bundle-fixture.js';

const exec = promisify(execFile);
const LIMIT = 64 * 1024;

let fx: Fixture;
let summary: BundleSummary;
beforeEach(async () => {
  fx = await makeFixture();
  await addFirstSnapshot(fx.ws);
  const result = await writeBundle({
    workspace: fx.ws,
    outDir: fx.out,
    maxPartSize: LIMIT,
    airlockVersion: 't',
  });
  if ('nothingNew' in result) throw new Error(result.reason);
  summary = result;
});
afterEach(() => fx.cleanup());

describe('bundle parts', () => {
  it('cuts the stream into NAME.partNNN of at most --max-part-size bytes, all full but the last', async () => {
    const expected = Math.ceil(summary.totalBytes / LIMIT);
    expect(summary.parts).toHaveLength(expected);
    summary.parts.forEach((p, i) =>
      expect(p.name).toBe(`${summary.name}.part${String(i + 1).padStart(3, '0')}`),
    );
    for (const p of summary.parts.slice(0, -1))
      expect((await stat(join(fx.out, p.name))).size).toBe(LIMIT);
    const last = summary.parts.at(-1)!;
    expect((await stat(join(fx.out, last.name))).size).toBe(
      summary.totalBytes - LIMIT * (expected - 1),
    );
    expect((await listOut(fx.out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('lets a blob larger than a part span several parts and still verifies', async () => {
    const manifest = parseManifest(await readFile(summary.manifestPath), summary.manifestPath);
    expect(manifest.blobBytes).toBeGreaterThan(4 * LIMIT); // the 300 KiB blob spans ≥ 4 parts
    expect(manifest.parts.map((p) => p.offset)).toEqual(manifest.parts.map((_, i) => i * LIMIT));
    expect(await verifyBundle(summary.manifestPath)).toMatchObject({
      parts: manifest.partCount,
      blobs: 4,
    });
  });

  it('is listed by GNU tar from the concatenated parts', async () => {
    const { stdout, stderr } = await exec('sh', ['-c', `cat ${summary.name}.part* | tar -t`], {
      cwd: fx.out,
    });
    const shas = [...fx.ws.entries({ source: 'cran', snapshot: '2026-11-01' })].map(
      (e) => `blobs/${e.sha256}`,
    );
    const listed = stdout.trim().split('\n');
    expect(listed[0]).toBe('index.ndjson');
    expect(listed.slice(1).sort()).toEqual([...new Set(shas)].sort());
    expect(stderr).toBe('');
  });

  it('extracts with GNU tar to the same bytes as the workspace blobs', async () => {
    await exec('sh', ['-c', `mkdir x && cat ${summary.name}.part* | tar -x -C x`], { cwd: fx.out });
    for (const e of fx.ws.entries({ source: 'cran', snapshot: '2026-11-01' })) {
      expect(await readFile(join(fx.out, 'x', 'blobs', e.sha256))).toEqual(
        await readFile(fx.ws.blobPath(e.sha256)),
      );
    }
  });

  it('passes `sha256sum -c SHA256SUMS` for the parts, manifest and listing', async () => {
    const { stdout } = await exec('sha256sum', ['-c', 'SHA256SUMS'], { cwd: fx.out });
    expect(stdout).toContain(`${summary.name}.manifest.json: OK`);
    for (const p of summary.parts) expect(stdout).toContain(`${p.name}: OK`);
    expect(stdout).not.toContain('FAILED');
  });

  it('keeps the lines of an earlier bundle in the shared SHA256SUMS', async () => {
    await fx.ws.addSnapshot({ source: 'cran', snapshot: '2026-11-02' }, [
      { path: 'src/contrib/d_1.tar.gz', bytes: randomFile(100) },
    ]);
    const second = await writeBundle({
      workspace: fx.ws,
      outDir: fx.out,
      maxPartSize: LIMIT,
      airlockVersion: 't',
    });
    if ('nothingNew' in second) throw new Error(second.reason);
    const { stdout } = await exec('sha256sum', ['-c', 'SHA256SUMS'], { cwd: fx.out });
    expect(stdout).toContain(`${summary.name}.manifest.json: OK`);
    expect(stdout).toContain(`${second.name}.tar: OK`);
  });

  it('uses a single NAME.tar when the stream fits in one part', async () => {
    await fx.ws.addSnapshot(
      { source: 'pypi', snapshot: '2026-11-02' },
      [{ path: 'x/', bytes: Buffer.from('{}'), role: 'index' }],
      'pypi',
    );
    const small = await writeBundle({
      workspace: fx.ws,
      outDir: fx.out,
      maxPartSize: LIMIT,
      airlockVersion: 't',
    });
    if ('nothingNew' in small) throw new Error(small.reason);
    expect(small.parts.map((p) => p.name)).toEqual([`${small.name}.tar`]);
  });
});
