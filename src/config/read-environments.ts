/**
 * The config's target environments: `environments:` (validated by the selection library's
 * parseEnvironments) and `environments-from:` (a Posit Connect runtimes.yaml), read once at
 * load so every later stage takes typed environments.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, storageErrorFrom } from '../errors.js';
import { parseEnvironments, type TargetEnvironment } from '../select/environments.js';
import { parseRuntimesYaml } from '../select/runtimes-yaml.js';
import type { ConfigReader, KeyPath } from './config-reader.js';

const ENVIRONMENT_KEYS = ['name', 'python', 'r', 'distribution', 'arch', 'glibc'];

export interface ReadEnvironments {
  environments: TargetEnvironment[];
  notes: string[];
}

export function readEnvironments(
  r: ConfigReader,
  from: string | undefined,
  distribution: string | undefined,
): ReadEnvironments {
  const environments = listed(r);
  const notes: string[] = [];
  if (from !== undefined) {
    const runtimes = parseRuntimesYaml(
      readRuntimes(r, from),
      from,
      distribution === undefined ? {} : { distribution },
    );
    environments.push(...runtimes.environments);
    for (const s of runtimes.skipped) notes.push(`${from}: image ${s.image} skipped: ${s.reason}`);
    if (runtimes.environments.length === 0) {
      r.fail(
        ['environments-from'],
        `${from} defines no usable environment (every image is matching: none or has neither Python nor R)`,
        'point environments-from at the runtimes.yaml your Connect server uses, or list environments:',
      );
    }
  }
  const seen = new Set<string>();
  for (const env of environments) {
    if (seen.has(env.name)) {
      r.fail(
        ['environments-from'],
        `environment "${env.name}" is defined twice (environments: and ${from})`,
        'rename the environment in environments:',
      );
    }
    seen.add(env.name);
  }
  return { environments, notes };
}

/** `environments:` through parseEnvironments, its errors re-pointed at the file's line. */
function listed(r: ConfigReader): TargetEnvironment[] {
  if (r.value(['environments']) === undefined) return [];
  const n = r.length(['environments']);
  const raw: Array<Record<string, string>> = [];
  for (let i = 0; i < n; i++) {
    const item: Record<string, string> = {};
    for (const key of r.keys(['environments', i], ENVIRONMENT_KEYS)) {
      // ConfigReader keeps numbers as written: an unquoted 3.10 stays "3.10", not 3.1.
      const value = r.string(['environments', i, key]);
      if (value !== undefined) item[key] = value;
    }
    if (item.name === undefined) item.name = `env${i + 1}`;
    raw.push(item);
  }
  try {
    return parseEnvironments(raw, r.file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw relocated(r, err);
  }
}

// parseEnvironments names 'file: environments[1].python'; the reader knows that key's line.
function relocated(r: ConfigReader, err: ConfigError): ConfigError {
  const prefix = `${r.file}: `;
  const rest = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  const m = /^environments\[(\d+)\](?:\.([a-z]+))?/.exec(rest);
  if (!m) return err;
  const path: KeyPath = m[2]
    ? ['environments', Number(m[1]), m[2]]
    : ['environments', Number(m[1])];
  const hint = err.hint === undefined ? {} : { hint: err.hint };
  return new ConfigError(`${r.where(path)}${rest.slice(m[0].length)}`, hint);
}

function readRuntimes(r: ConfigReader, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      r.fail(
        ['environments-from'],
        `${path} does not exist`,
        'give the path of the Connect runtimes.yaml, relative to the config file',
      );
    }
    throw storageErrorFrom(err, 'read', path);
  }
}
