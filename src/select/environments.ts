/**
 * Target environments: the machines on the far side of the gap (a Python version, an R
 * version, a Linux distribution and a machine). They decide which R binaries and which wheels
 * are worth carrying. They come from the config's `environments:` list or from a Posit
 * Connect runtimes.yaml (runtimes-yaml.ts).
 */
import { ConfigError } from '../errors.js';
import { supportedTags, type PythonPlatform, type WheelTagSet } from '../upstream/wheel-tags.js';
import { distributionLibc, KNOWN_DISTRIBUTIONS } from './distributions.js';

export interface TargetEnvironment extends PythonPlatform {
  name: string;
  /** '3.11' or '3.11.4' */
  python?: string;
  /** '4.3' or '4.3.2' */
  r?: string;
  /** 'jammy', 'ubuntu2204', 'bookworm', 'rhel9', 'alpine3.19', ... */
  distribution: string;
  arch: 'x86_64' | 'aarch64';
  libc: 'glibc' | 'musl';
  glibc?: string;
  /** The container image it was read from (runtimes.yaml). */
  image?: string;
}

const VERSION = /^\d+\.\d+(\.\d+)?$/;
const KEYS = new Set(['name', 'python', 'r', 'distribution', 'arch', 'glibc']);
const ARCH_ALIASES: Record<string, TargetEnvironment['arch']> = {
  x86_64: 'x86_64',
  amd64: 'x86_64',
  aarch64: 'aarch64',
  arm64: 'aarch64',
};

/**
 * Validates the config's `environments:` value (a list of {name, python?, r?, distribution,
 * arch?, glibc?}). `file` is the config file, named in every error with the offending key.
 */
export function parseEnvironments(configValue: unknown, file: string): TargetEnvironment[] {
  if (!Array.isArray(configValue) || configValue.length === 0) {
    throw new ConfigError(`${file}: environments must be a non-empty list`, {
      hint: 'write e.g. environments: [{name: prod, python: "3.11", r: "4.3", distribution: jammy}]',
    });
  }
  const environments = configValue.map((item, i) =>
    parseEnvironment(item, `${file}: environments[${i}]`),
  );
  const seen = new Set<string>();
  for (const [i, env] of environments.entries()) {
    if (seen.has(env.name)) {
      throw new ConfigError(`${file}: environments[${i}].name: '${env.name}' is used twice`, {
        hint: 'give every environment a unique name',
      });
    }
    seen.add(env.name);
  }
  return environments;
}

function parseEnvironment(item: unknown, where: string): TargetEnvironment {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new ConfigError(`${where} must be a mapping`, {
      hint: 'each environment is {name, python, r, distribution, arch}',
    });
  }
  const raw = item as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!KEYS.has(key)) {
      throw new ConfigError(`${where}.${key}: unknown key`, {
        hint: `environment keys are: ${[...KEYS].join(', ')}`,
      });
    }
  }
  const name = stringKey(raw, 'name', where, true)!;
  const python = versionKey(raw, 'python', where);
  const r = versionKey(raw, 'r', where);
  if (python === undefined && r === undefined) {
    throw new ConfigError(`${where}: give python, r, or both`, {
      hint: 'an environment without a Python or R version selects nothing',
    });
  }
  const distribution = stringKey(raw, 'distribution', where, true)!;
  const arch = archKey(raw.arch, `${where}.arch`);
  return buildEnvironment(
    { name, python, r, distribution, arch, glibc: versionKey(raw, 'glibc', where) },
    where,
  );
}

export interface EnvironmentFields {
  name: string;
  python?: string | undefined;
  r?: string | undefined;
  distribution: string;
  arch: TargetEnvironment['arch'];
  glibc?: string | undefined;
  image?: string | undefined;
}

/** Fills in the libc from the distribution (or the explicit glibc for an unknown one). */
export function buildEnvironment(fields: EnvironmentFields, where: string): TargetEnvironment {
  const known = distributionLibc(fields.distribution);
  if (!known && fields.glibc === undefined) {
    throw new ConfigError(`${where}.distribution: unknown distribution '${fields.distribution}'`, {
      hint: `use one of ${KNOWN_DISTRIBUTIONS.join(', ')}, or also give glibc: "2.NN" for another glibc-based one`,
    });
  }
  const env: TargetEnvironment = {
    name: fields.name,
    distribution: fields.distribution,
    arch: fields.arch,
    libc: known?.libc ?? 'glibc',
  };
  if (fields.python !== undefined) env.python = fields.python;
  if (fields.r !== undefined) env.r = fields.r;
  if (env.libc === 'glibc') env.glibc = fields.glibc ?? known!.version;
  else env.musl = known!.version;
  if (fields.image !== undefined) env.image = fields.image;
  return env;
}

function stringKey(raw: Record<string, unknown>, key: string, where: string, required: boolean) {
  const value = raw[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(
      `${where}.${key}: ${value === undefined ? 'is required' : 'must be a non-empty string'}`,
      {
        hint: key === 'distribution' ? 'e.g. distribution: jammy' : `set ${key}: to a string`,
      },
    );
  }
  return value.trim();
}

function versionKey(raw: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  // YAML reads 3.10 as the number 3.1: only a quoted string keeps the version intact.
  if (typeof value !== 'string' || !VERSION.test(value.trim())) {
    throw new ConfigError(
      `${where}.${key}: expected a version like "3.11" or "3.11.4", got ${JSON.stringify(value)}`,
      {
        hint: `quote the version: ${key}: "${typeof value === 'number' ? String(value) : 'X.Y'}" (unquoted 3.10 reads as 3.1)`,
      },
    );
  }
  return value.trim();
}

export function archKey(value: unknown, where: string): TargetEnvironment['arch'] {
  if (value === undefined) return 'x86_64';
  const arch = typeof value === 'string' ? ARCH_ALIASES[value.trim().toLowerCase()] : undefined;
  if (!arch) {
    throw new ConfigError(`${where}: unknown architecture ${JSON.stringify(value)}`, {
      hint: 'use x86_64 (amd64) or aarch64 (arm64)',
    });
  }
  return arch;
}

/** The R minors ('4.3') the environments run, ascending: one cran-binary variant each. */
export function rMinorsFor(envs: readonly TargetEnvironment[]): string[] {
  const minors = new Set<string>();
  for (const env of envs)
    if (env.r !== undefined) minors.add(env.r.split('.').slice(0, 2).join('.'));
  return [...minors].sort((a, b) => {
    const [am, an] = a.split('.').map(Number) as [number, number];
    const [bm, bn] = b.split('.').map(Number) as [number, number];
    return am - bm || an - bn;
  });
}

/** The wheel tags each environment with a Python accepts, by environment name. */
export function pythonTagsFor(envs: readonly TargetEnvironment[]): Map<string, WheelTagSet> {
  const tags = new Map<string, WheelTagSet>();
  for (const env of envs) if (env.python !== undefined) tags.set(env.name, supportedTags(env));
  return tags;
}
