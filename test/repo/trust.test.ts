/**
 * The trust model, through the real CLI: a repository records the `--trust` key of its first
 * import (or keys given to `airlock trust add`), and every later import checks the bundle's
 * signature against them without being told: unsigned bundles and other keys are refused with
 * exit 4 unless `--allow-unsigned`. A repository without a key says on every import that it is
 * open. Keys are compared by their `SHA256:` fingerprint, which openssl computes the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairFiles, type KeyPairFiles } from '../../src/bundle/keygen.js';
import { runAirlock, type CliResult } from '../helpers/cli.js';
import { craftBundle, indexFor, sha256, type CraftedBundle } from '../helpers/craft-bundle.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3rver-fixture.js';

let dir: string;
let producer: KeyPairFiles;
let stranger: KeyPairFiles;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-trust-'));
  producer = await generateKeyPairFiles(join(dir, 'producer'));
  stranger = await generateKeyPairFiles(join(dir, 'stranger'));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A full bundle with its own id and content, signed by `key` (a .key path) or unsigned. */
async function bundle(key?: string): Promise<CraftedBundle> {
  const i = n++;
  const id = `20261101T1000${String(i).padStart(2, '0')}Z-c0ffee`;
  const body = Buffer.from(`package bytes of bundle ${i}\n`);
  const out = join(dir, `b${i}`);
  await mkdir(out, { recursive: true });
  return craftBundle(out, {
    id,
    indexRecords: indexFor([body], id),
    entries: [{ name: `blobs/${sha256(body)}`, body }],
    ...(key ? { sign: key } : {}),
  });
}

async function importInto(
  repo: string,
  b: CraftedBundle,
  ...extra: string[]
): Promise<CliResult & { json?: Record<string, unknown> }> {
  const r = await runAirlock(['import', b.manifestPath, '--repo', repo, '--json', ...extra]);
  return r.code === 0 ? { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> } : r;
}

function opensslFingerprint(pub: string): string {
  const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pub, '-outform', 'DER']);
  const raw = der.subarray(der.length - 32);
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: raw });
  return `SHA256:${digest.toString('base64').replace(/=+$/, '')}`;
}

describe('a repository records the keys it trusts', { timeout: 60_000 }, () => {
  it('prints a fingerprint that openssl computes the same way', async () => {
    const r = await runAirlock(['trust', 'fingerprint', producer.publicKeyPath]);
    expect(r.code).toBe(0);
    expect(r.stdout.split(/\s+/)[0]).toBe(opensslFingerprint(producer.publicKeyPath));
    expect(producer.fingerprint).toBe(opensslFingerprint(producer.publicKeyPath));
  });

  it('records the --trust key of the first import, then refuses unsigned bundles and other keys without being told', async () => {
    const repo = join(dir, 'closed');
    const first = await importInto(
      repo,
      await bundle(producer.privateKeyPath),
      '--trust',
      producer.publicKeyPath,
    );
    expect(first.code).toBe(0);
    expect(first.json!.trust).toMatchObject({
      open: false,
      recorded: producer.fingerprint,
      signer: producer.fingerprint,
      trustedKeys: [producer.fingerprint],
    });
    expect(first.stderr).toContain(`key ${producer.fingerprint}`);

    // No --trust from here on: the repository remembers.
    const signed = await importInto(repo, await bundle(producer.privateKeyPath));
    expect(signed.code).toBe(0);
    expect(signed.json!.trust).toMatchObject({ open: false, signer: producer.fingerprint });
    expect(signed.stderr).not.toContain('trusts no signing key');

    const unsigned = await importInto(repo, await bundle());
    expect(unsigned.code).toBe(4);
    expect(unsigned.stderr).toContain('is unsigned');

    const foreign = await importInto(repo, await bundle(stranger.privateKeyPath));
    expect(foreign.code).toBe(4);
    expect(foreign.stderr).toContain('signed with another key');
    expect(foreign.stderr).toContain(producer.fingerprint);

    // --trust with a key the repository does not hold is refused, not silently added.
    const widened = await importInto(
      repo,
      await bundle(stranger.privateKeyPath),
      '--trust',
      stranger.publicKeyPath,
    );
    expect(widened.code).toBe(4);
    expect(widened.stderr).toContain(`${stranger.fingerprint}) is not a key`);
    expect(widened.stderr).toContain('airlock trust add');

    // --allow-unsigned is the one way past, and it says so.
    const allowed = await importInto(repo, await bundle(), '--allow-unsigned');
    expect(allowed.code).toBe(0);
    expect(allowed.json!.trust).toMatchObject({ allowedUnsigned: true, signer: null });
    expect(allowed.stderr).toContain('--allow-unsigned');

    const list = await runAirlock(['trust', 'list', '--repo', repo, '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({
      open: false,
      trustedKeys: [producer.fingerprint],
    });
  });

  it('an open repository says so on every import, until `trust add` closes it', async () => {
    const repo = join(dir, 'open');
    for (const key of [undefined, producer.privateKeyPath]) {
      const r = await importInto(repo, await bundle(key));
      expect(r.code).toBe(0);
      expect(r.json!.trust).toMatchObject({ open: true, trustedKeys: [] });
      expect(r.stderr).toContain('trusts no signing key: it accepts any bundle');
    }
    // A key on a later import is not recorded by the side of an import.
    const late = await importInto(
      repo,
      await bundle(producer.privateKeyPath),
      '--trust',
      producer.publicKeyPath,
    );
    expect(late.code).toBe(4);
    expect(late.stderr).toContain('only its first import records a --trust key');

    const add = await runAirlock(['trust', 'add', producer.publicKeyPath, '--repo', repo]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain(`now trusts ${producer.fingerprint}`);
    const again = await runAirlock(['trust', 'add', producer.publicKeyPath, '--repo', repo]);
    expect(again.stdout).toContain('already trusts');

    expect((await importInto(repo, await bundle())).code).toBe(4);
    const signed = await importInto(repo, await bundle(producer.privateKeyPath));
    expect(signed.code).toBe(0);
    expect(signed.stderr).not.toContain('trusts no signing key');

    // The last key stays unless the operator means to reopen the repository.
    const remove = await runAirlock(['trust', 'remove', producer.fingerprint, '--repo', repo]);
    expect(remove.code).toBe(2);
    expect(remove.stderr).toContain('last key');
    await runAirlock(['trust', 'add', stranger.publicKeyPath, '--repo', repo]);
    const removed = await runAirlock(['trust', 'remove', producer.publicKeyPath, '--repo', repo]);
    expect(removed.code).toBe(0);
    expect((await importInto(repo, await bundle(producer.privateKeyPath))).code).toBe(4);
    const config = JSON.parse(await readFile(join(repo, 'airlock-repository.json'), 'utf8'));
    expect(config.policy.trustedKeys).toEqual([await readFile(stranger.publicKeyPath, 'utf8')]);
  });

  it('trust refuses a path that is not a repository and creates nothing there', async () => {
    const nowhere = await mkdtemp(join(dir, 'not-a-repo-'));
    const r = await runAirlock(['trust', 'add', producer.publicKeyPath, '--repo', nowhere]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not an airlock repository');
    expect(execFileSync('ls', ['-A', nowhere]).toString()).toBe('');
  });
});

describe('trust on an S3 repository', { timeout: 60_000 }, () => {
  let s3: S3Fixture;
  beforeAll(async () => {
    s3 = await startS3();
  }, 60_000);
  afterAll(async () => {
    await s3?.close();
  }, 60_000);

  it('adds a key with --s3-endpoint and later imports check it', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    };
    const repo = ['--repo', 's3://packages/trust', '--s3-endpoint', s3.endpoint];
    const run = (args: string[]) => runAirlock([...args, ...repo], env);
    expect((await run(['import', (await bundle()).manifestPath])).code).toBe(0);
    const add = await run(['trust', 'add', producer.publicKeyPath, '--json']);
    expect(add.code).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ added: true, open: false });
    expect((await run(['import', (await bundle()).manifestPath])).code).toBe(4);
    expect((await run(['import', (await bundle(producer.privateKeyPath)).manifestPath])).code).toBe(
      0,
    );
    const list = await run(['trust', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ trustedKeys: [producer.fingerprint] });
  });
});
