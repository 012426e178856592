import { copyFile, open, readFile, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BundleSummary } from '../../src/bundle/events.js';
import { generateKeyPairFiles, type KeyPairFiles } from '../../src/bundle/keygen.js';
import { openBundle } from '../../src/bundle/open.js';
import { readBundle } from '../../src/bundle/read.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { writeBundle } from '../../src/bundle/write.js';
import { addFirstSnapshot, caught, makeFixture, type Fixture } from './bundle-fixture.js';

const LIMIT = 64 * 1024;
let fx: Fixture;
let keys: KeyPairFiles;
let b: BundleSummary;

beforeEach(async () => {
  fx = await makeFixture();
  await addFirstSnapshot(fx.ws);
  keys = await generateKeyPairFiles(join(fx.root, 'airlock'));
  const result = await writeBundle({
    workspace: fx.ws,
    outDir: fx.out,
    maxPartSize: LIMIT,
    signKeyPath: keys.privateKeyPath,
    airlockVersion: 't',
  });
  if ('nothingNew' in result) throw new Error(result.reason);
  b = result;
});
afterEach(() => fx.cleanup());

const part = (n: number): string => join(fx.out, b.parts[n - 1]!.name);
const of = (): string => `of ${b.parts.length}`;

async function flipByte(path: string, at: number): Promise<void> {
  const handle = await open(path, 'r+');
  const one = Buffer.alloc(1);
  await handle.read(one, 0, 1, at);
  one[0] = one[0]! ^ 0x01;
  await handle.write(one, 0, 1, at);
  await handle.close();
}

function verifyFailure(trust = true) {
  return caught(() => verifyBundle(b.manifestPath, trust ? { trust: keys.publicKeyPath } : {}));
}

describe('verify catches tampering with exit 4 and names what to do', () => {
  it('the untouched bundle verifies', async () => {
    expect(await verifyBundle(b.manifestPath, { trust: keys.publicKeyPath })).toMatchObject({
      signature: 'verified',
      parts: b.parts.length,
    });
  });

  it('one flipped byte inside a part: names the part to re-copy', async () => {
    await flipByte(part(3), 1000);
    const err = await verifyFailure();
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(`part 3 ${of()} (${b.parts[2]!.name}) does not match its sha256`);
    expect(err.hint).toContain(`re-copy part 3 ${of()}`);
  });

  it('flipped bytes in two parts: lists both', async () => {
    await flipByte(part(2), 10);
    await flipByte(part(4), 10);
    const err = await verifyFailure();
    expect(err.message).toMatch(
      new RegExp(`part 2 ${of()} .* does not match its sha256.*part 4 ${of()} also do not match`),
    );
  });

  it('a damaged blob is never handed to a consumer as complete', async () => {
    await flipByte(part(3), 1000);
    const committed: string[] = [];
    const failedBodies: string[] = [];
    const err = await caught(async () =>
      readBundle(await openBundle(b.manifestPath), {
        onBlob: async (record, body) => {
          try {
            for await (const _ of body) void _;
            committed.push(record.sha256);
          } catch {
            failedBodies.push(record.sha256);
          }
        },
      }),
    );
    expect(err.exitCode).toBe(4);
    expect(failedBodies).toHaveLength(1);
    expect(committed).not.toContain(failedBodies[0]);
  });

  it('a truncated part', async () => {
    await truncate(part(2), 1000);
    const err = await verifyFailure();
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(
      `part 2 ${of()} (${b.parts[1]!.name}) is truncated (1000 bytes, expected ${LIMIT}): re-copy part 2 ${of()}`,
    );
  });

  it('a missing part', async () => {
    await unlink(part(3));
    const err = await verifyFailure();
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(
      `part 3 ${of()} (${b.parts[2]!.name}) is missing: copy it from the source media`,
    );
  });

  it('two parts swapped', async () => {
    await rename(part(2), `${part(2)}.x`);
    await rename(part(3), part(2));
    await rename(`${part(2)}.x`, part(3));
    const err = await verifyFailure();
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(
      `part 2 ${of()} (${b.parts[1]!.name}) holds the bytes of part 3 (${b.parts[2]!.name}): the parts were renamed or swapped`,
    );
  });

  it('an edited manifest, signed: the manifest was modified after signing', async () => {
    const text = await readFile(b.manifestPath, 'utf8');
    await writeFile(b.manifestPath, text.replace('"airlockVersion": "t"', '"airlockVersion": "u"'));
    const err = await verifyFailure();
    expect(err).toMatchObject({ exitCode: 4, code: 'ESIGNATURE' });
    expect(err.message).toContain(
      'the manifest was modified after signing, or signed with another key',
    );
  });

  it('an edited manifest, unsigned check: SHA256SUMS gives it away', async () => {
    const text = await readFile(b.manifestPath, 'utf8');
    await writeFile(b.manifestPath, text.replace('"airlockVersion": "t"', '"airlockVersion": "u"'));
    const err = await verifyFailure(false);
    expect(err).toMatchObject({ exitCode: 4, code: 'EMANIFEST' });
    expect(err.message).toContain('does not match its line in SHA256SUMS');
  });

  it('a signature made with another key', async () => {
    const other = await generateKeyPairFiles(join(fx.root, 'other'));
    const err = await caught(() => verifyBundle(b.manifestPath, { trust: other.publicKeyPath }));
    expect(err).toMatchObject({ exitCode: 4, code: 'ESIGNATURE' });
    expect(err.message).toContain('signed with another key');
  });

  it('an unsigned bundle under --trust', async () => {
    await unlink(`${b.manifestPath}.sig`);
    const err = await verifyFailure();
    expect(err).toMatchObject({ exitCode: 4, code: 'EUNSIGNED' });
    expect(err.message).toContain('unsigned bundle is refused under --trust');
    // Without a key it verifies, and says clearly that it is unsigned.
    expect(await verifyBundle(b.manifestPath)).toMatchObject({ signature: 'unsigned' });
  });

  it('a manifest from a newer airlock', async () => {
    const copy = join(fx.root, 'copy.manifest.json');
    await copyFile(b.manifestPath, copy);
    await writeFile(copy, (await readFile(copy, 'utf8')).replace('"format": 1', '"format": 2'));
    const err = await caught(() => verifyBundle(copy));
    expect(err).toMatchObject({ exitCode: 4, code: 'EFORMAT' });
    expect(err.hint).toContain('upgrade airlock');
  });

  it('a manifest that names a part outside its directory is refused', async () => {
    const text = await readFile(b.manifestPath, 'utf8');
    const copy = join(fx.root, 'evil.manifest.json');
    await writeFile(copy, text.replace(`"${b.parts[0]!.name}"`, '"../../etc/passwd"'));
    const err = await caught(() => verifyBundle(copy));
    expect(err).toMatchObject({
      exitCode: 4,
      message: expect.stringContaining('part 1 is malformed'),
    });
  });

  it('a missing manifest is a usage error naming the path', async () => {
    const err = await caught(() => verifyBundle(join(fx.out, 'nope.manifest.json')));
    expect(err).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('nope.manifest.json does not exist'),
    });
  });
});
