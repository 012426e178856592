/**
 * airlock-repository.json: the repository's identity, format version and import policy.
 * Created by the first import (exclusively, so two first imports agree on one document).
 */
import { IntegrityError } from '../errors.js';
import { Fields, parseJsonObject } from './document-json.js';
import { REPOSITORY_CONFIG_KEY, REPOSITORY_FORMAT } from './layout.js';
import type { Storage } from './storage.js';

export interface RepositoryPolicy {
  /**
   * Refuse bundles without a signature that verifies against trustedKeys, even while the list
   * is empty (a repository with keys refuses them anyway: see trusted-keys.ts).
   */
  requireSignature: boolean;
  /**
   * PEM-encoded Ed25519 public keys trusted to sign bundles for this repository: the `--trust`
   * key of the first import and those of `airlock trust add`. Empty: the repository is open.
   */
  trustedKeys: string[];
}

export interface RepositoryConfig {
  format: number;
  createdAt: string;
  policy: RepositoryPolicy;
}

export async function readRepositoryConfig(
  storage: Storage,
): Promise<RepositoryConfig | undefined> {
  const bytes = await storage.readBuffer(REPOSITORY_CONFIG_KEY);
  return bytes === undefined ? undefined : parseRepositoryConfig(bytes, storage.location);
}

/**
 * The repository's config, writing the default one (trusting `trustedKeys`) when the
 * repository is new.
 */
export async function ensureRepositoryConfig(
  storage: Storage,
  now: Date = new Date(),
  trustedKeys: string[] = [],
): Promise<RepositoryConfig> {
  const existing = await readRepositoryConfig(storage);
  if (existing) return existing;
  const fresh: RepositoryConfig = {
    format: REPOSITORY_FORMAT,
    createdAt: now.toISOString(),
    policy: { requireSignature: false, trustedKeys },
  };
  if (await storage.createExclusive(REPOSITORY_CONFIG_KEY, serializeConfig(fresh))) {
    return fresh;
  }
  const raced = await readRepositoryConfig(storage);
  return raced ?? fresh;
}

/**
 * Replaces the config in one atomic write (a reader sees the old document or the new one).
 * Callers hold the import lock, so no import reads a policy that is being changed.
 */
export async function writeRepositoryConfig(
  storage: Storage,
  config: RepositoryConfig,
): Promise<void> {
  await storage.write(REPOSITORY_CONFIG_KEY, serializeConfig(config));
}

function serializeConfig(config: RepositoryConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function parseRepositoryConfig(bytes: Buffer, location: string): RepositoryConfig {
  const f = new Fields(REPOSITORY_CONFIG_KEY, location);
  const obj = parseJsonObject(bytes, REPOSITORY_CONFIG_KEY, location);
  const format = f.count(obj, 'format');
  if (format > REPOSITORY_FORMAT) {
    throw new IntegrityError(
      `${location} has repository format ${format}; this airlock reads format ${REPOSITORY_FORMAT}`,
      { code: 'EFORMAT', hint: 'use a newer airlock with this repository' },
    );
  }
  const policy = obj.policy === undefined ? {} : f.object(obj, 'policy');
  return {
    format,
    createdAt: f.string(obj, 'createdAt'),
    policy: {
      requireSignature:
        policy.requireSignature === undefined ? false : f.boolean(policy, 'requireSignature'),
      trustedKeys: policy.trustedKeys === undefined ? [] : f.stringArray(policy, 'trustedKeys'),
    },
  };
}
