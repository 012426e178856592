/**
 * The keys a repository trusts to sign its bundles, kept in airlock-repository.json
 * (`policy.trustedKeys`, PEM). A repository records the `--trust` key of its first import and
 * the keys `airlock trust add` gives; every later import checks the bundle's signature against
 * them without being told, and refuses an unsigned bundle or one signed by another key unless
 * the operator says `--allow-unsigned`. A repository that trusts no key is "open": it takes any
 * bundle and says so on every import. Changes are made under the import lock and written in
 * one atomic replace, so an import never sees half a change.
 */
import { keyFingerprint, sameFingerprint } from '../bundle/key-fingerprint.js';
import { loadPublicKey, parsePublicKey } from '../bundle/signing.js';
import { IntegrityError, UsageError } from '../errors.js';
import { hasAnyBundleRecord } from './bundle-record.js';
import { acquireImportLock, type LockEvent } from './import-lock.js';
import {
  readRepositoryConfig,
  writeRepositoryConfig,
  type RepositoryConfig,
} from './repository-config.js';
import type { Storage } from './storage.js';

export interface TrustedKey {
  /** `SHA256:…`, see key-fingerprint.ts. */
  fingerprint: string;
  pem: string;
}

export interface RepositoryTrust {
  /** True when the repository trusts no key: every bundle is accepted, signed or not. */
  open: boolean;
  keys: TrustedKey[];
  /** The repository refuses unsigned bundles even with no key (a hand-set policy). */
  requireSignature: boolean;
}

/** How an import checks the bundle's signature, decided before the bundle is opened. */
export interface ImportTrust extends RepositoryTrust {
  /** Keys the signature must verify against; empty when the repository is open. */
  checkKeys: string[];
  /** Who gave checkKeys, for messages. */
  keysFrom: string;
  /** The `--trust` key of the first import, recorded once the bundle's signature verified. */
  record?: TrustedKey;
}

export function repositoryTrust(config: RepositoryConfig | undefined): RepositoryTrust {
  const keys = (config?.policy.trustedKeys ?? []).map((pem, i) => ({
    fingerprint: keyFingerprint(parsePublicKey(pem, `trusted key ${i + 1} of the repository`)),
    pem,
  }));
  const requireSignature = config?.policy.requireSignature ?? false;
  return { open: keys.length === 0 && !requireSignature, keys, requireSignature };
}

/**
 * The trust an import applies. `--trust KEY` on a repository's first import makes KEY its
 * trusted key; on any later import it is an extra demand (the bundle must be signed by KEY)
 * and KEY must already be trusted: a key is never added on the side of an import, so a
 * mistyped or foreign key cannot widen what a repository accepts.
 */
export async function planImportTrust(
  storage: Storage,
  config: RepositoryConfig | undefined,
  opts: { trust?: string; allowUnsigned?: boolean },
): Promise<ImportTrust> {
  const current = repositoryTrust(config);
  const where = storage.location;
  if (opts.trust !== undefined) {
    const given = await readKeyFile(opts.trust);
    const known = current.keys.find((k) => k.fingerprint === given.fingerprint);
    const keysFrom = `--trust ${opts.trust}`;
    if (known) return { ...current, checkKeys: [known.pem], keysFrom };
    if (current.open && !(await hasAnyBundleRecord(storage))) {
      return { ...current, checkKeys: [given.pem], keysFrom, record: given };
    }
    throw new IntegrityError(
      `--trust ${opts.trust} (${given.fingerprint}) is not a key ${where} trusts: ` +
        (current.keys.length > 0
          ? `it trusts ${current.keys.map((k) => k.fingerprint).join(', ')}`
          : 'it trusts no key, and only its first import records a --trust key'),
      {
        code: 'EUNTRUSTED',
        hint: `compare the fingerprint with the producer's (\`airlock trust fingerprint ${opts.trust}\`, by phone), then record it with \`airlock trust add ${opts.trust} --repo ${where}\` and import again`,
      },
    );
  }
  if (current.keys.length > 0) {
    return {
      ...current,
      checkKeys: current.keys.map((k) => k.pem),
      keysFrom: `the keys ${where} trusts (see \`airlock trust list\`)`,
    };
  }
  if (current.requireSignature && !opts.allowUnsigned) {
    throw new IntegrityError(`${where} requires signed bundles but trusts no key yet`, {
      code: 'EUNTRUSTED',
      hint: `record the producer's public key with \`airlock trust add KEY.pub --repo ${where}\`, or give --allow-unsigned to import this bundle anyway`,
    });
  }
  return { ...current, checkKeys: [], keysFrom: 'nobody' };
}

/** Records the first import's `--trust` key (the caller holds the import lock). */
export async function recordFirstKey(storage: Storage, key: TrustedKey): Promise<void> {
  const config = await readRepositoryConfig(storage);
  if (!config) throw new Error('recordFirstKey: the repository config was not created');
  if (repositoryTrust(config).keys.some((k) => k.fingerprint === key.fingerprint)) return;
  await writeRepositoryConfig(storage, {
    ...config,
    policy: { ...config.policy, trustedKeys: [...config.policy.trustedKeys, key.pem] },
  });
}

export interface TrustChangeOptions {
  wait?: boolean;
  onEvent?: (e: LockEvent) => void;
}

export async function listTrustedKeys(storage: Storage): Promise<RepositoryTrust> {
  return repositoryTrust(await requireConfig(storage));
}

/** `airlock trust add KEY.pub`: true when the key was added, false when it was trusted already. */
export async function addTrustedKey(
  storage: Storage,
  keyPath: string,
  opts: TrustChangeOptions = {},
): Promise<{ key: TrustedKey; added: boolean; trust: RepositoryTrust }> {
  const key = await readKeyFile(keyPath, 'KEY.pub');
  await requireConfig(storage); // before the lock, which would create locks/ in a mistyped path
  return withLock(storage, opts, async () => {
    const config = await requireConfig(storage);
    const trust = repositoryTrust(config);
    if (trust.keys.some((k) => k.fingerprint === key.fingerprint)) {
      return { key, added: false, trust };
    }
    const updated = {
      ...config,
      policy: { ...config.policy, trustedKeys: [...config.policy.trustedKeys, key.pem] },
    };
    await writeRepositoryConfig(storage, updated);
    return { key, added: true, trust: repositoryTrust(updated) };
  });
}

/**
 * `airlock trust remove FINGERPRINT|KEY.pub`. Removing the last key would open the repository
 * to any bundle: that takes `reopen`.
 */
export async function removeTrustedKey(
  storage: Storage,
  which: string,
  opts: TrustChangeOptions & { reopen?: boolean } = {},
): Promise<{ key: TrustedKey; trust: RepositoryTrust }> {
  const fingerprint = which.endsWith('.pub')
    ? (await readKeyFile(which, 'KEY.pub')).fingerprint
    : which;
  await requireConfig(storage);
  return withLock(storage, opts, async () => {
    const config = await requireConfig(storage);
    const trust = repositoryTrust(config);
    const key = trust.keys.find((k) => sameFingerprint(k.fingerprint, fingerprint));
    if (!key) {
      throw new UsageError(`${storage.location} does not trust ${which}`, {
        hint: `\`airlock trust list --repo ${storage.location}\` shows the fingerprints it trusts`,
      });
    }
    const remaining = trust.keys.filter((k) => k !== key);
    if (remaining.length === 0 && !trust.requireSignature && !opts.reopen) {
      throw new UsageError(
        `${key.fingerprint} is the last key ${storage.location} trusts: removing it would make the repository accept any bundle`,
        {
          hint: 'add the replacement key first (`airlock trust add NEW.pub --repo ...`), or give --reopen to accept unsigned bundles again',
        },
      );
    }
    const updated = {
      ...config,
      policy: { ...config.policy, trustedKeys: remaining.map((k) => k.pem) },
    };
    await writeRepositoryConfig(storage, updated);
    return { key, trust: repositoryTrust(updated) };
  });
}

/** The fingerprint of a public key file, for `airlock trust fingerprint KEY.pub`. */
export async function fingerprintOfFile(path: string): Promise<TrustedKey> {
  return readKeyFile(path, 'KEY.pub');
}

async function readKeyFile(path: string, option = '--trust'): Promise<TrustedKey> {
  const key = await loadPublicKey(path, option);
  // Recorded in canonical SPKI PEM, whatever whitespace or comments the file had.
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { fingerprint: keyFingerprint(key), pem };
}

async function requireConfig(storage: Storage): Promise<RepositoryConfig> {
  const config = await readRepositoryConfig(storage);
  if (!config) {
    throw new UsageError(`${storage.location} is not an airlock repository`, {
      hint: 'check the --repo location; a repository is created by its first `airlock import` (give --trust KEY.pub there to record the key at once)',
    });
  }
  return config;
}

async function withLock<T>(
  storage: Storage,
  opts: TrustChangeOptions,
  work: () => Promise<T>,
): Promise<T> {
  // The import lock: an import reads the trusted keys once, before it opens the bundle, and a
  // change must not interleave with another change's read-modify-write.
  const lock = await acquireImportLock(storage, {
    ...(opts.wait === undefined ? {} : { wait: opts.wait }),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
  });
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
