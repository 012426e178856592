/** Reads and validates a config file once, up front; inner code trusts the result. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { SNAPSHOT_ID, type SourceType } from '../model.js';
import { ConfigReader, type KeyPath } from './config-reader.js';
import {
  DEFAULT_CONCURRENCY,
  type Config,
  type SdistPolicy,
  type SourceConfig,
  type VersionsPolicy,
} from './types.js';
import { parseRate } from '../fetch/rate-limit.js';
import { readEnvironments } from './read-environments.js';
import { rMinorsFor } from '../select/environments.js';

const TOP_KEYS = [
  'upstream',
  'proxy',
  'ca-file',
  'concurrency',
  'limit-rate',
  'environments',
  'environments-from',
  'environments-distribution',
  'sources',
] as const;
const COMMON_SOURCE_KEYS = [
  'name',
  'type',
  'url',
  'snapshot',
  'packages',
  'requirements',
  'renv-lock',
  'description',
  'connect-manifest',
  'allow-missing',
  'versions',
  'latest',
];
const SOURCE_KEYS: Record<SourceType, string[]> = {
  cran: [...COMMON_SOURCE_KEYS, 'suggests', 'archive'],
  'cran-binary': [
    ...COMMON_SOURCE_KEYS,
    'suggests',
    'archive',
    'distribution',
    'r',
    'fallback-source',
  ],
  pypi: [...COMMON_SOURCE_KEYS, 'sdists', 'metadata'],
};
const SOURCE_TYPES = Object.keys(SOURCE_KEYS) as SourceType[];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function loadConfig(file: string): Config {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`, {
      hint: 'pass --config with the path of an existing YAML or JSON file (see samples/)',
    });
  }
  return parseConfig(text, path);
}

export function parseConfig(text: string, file: string): Config {
  const r = new ConfigReader(file, text);
  r.keys([], TOP_KEYS);
  const base = dirname(file);
  const upstream = r.string(['upstream']);
  if (upstream !== undefined) httpUrl(r, ['upstream'], upstream);
  const proxy = r.string(['proxy']);
  if (proxy !== undefined) httpUrl(r, ['proxy'], proxy);
  const rate = r.string(['limit-rate']);
  const config: Config = {
    file,
    concurrency: r.integer(['concurrency'], { min: 1, max: 256 }) ?? DEFAULT_CONCURRENCY,
    environments: [],
    environmentNotes: [],
    sources: [],
  };
  if (upstream !== undefined) config.upstream = upstream.replace(/\/+$/, '');
  if (proxy !== undefined) config.proxy = proxy;
  const ca = r.string(['ca-file']);
  if (ca !== undefined) config.caFile = resolve(base, ca);
  if (rate !== undefined) config.limitRate = parseRateAt(r, rate);
  const from = r.string(['environments-from']);
  if (from !== undefined) config.environmentsFrom = resolve(base, from);
  const dist = r.string(['environments-distribution']);
  if (dist !== undefined) config.environmentsDistribution = dist;
  const envs = readEnvironments(r, config.environmentsFrom, dist);
  config.environments = envs.environments;
  config.environmentNotes = envs.notes;

  if (r.value(['sources']) === undefined) {
    r.fail(['sources'], 'is required', 'list at least one source (see samples/mirror.yaml)');
  }
  const count = r.length(['sources']);
  if (count === 0)
    r.fail(['sources'], 'is empty', 'list at least one source (see samples/mirror.yaml)');
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const source = readSource(r, i, base, upstream);
    if (names.has(source.name)) {
      r.fail(
        ['sources', i, 'name'],
        `duplicate source name "${source.name}"`,
        'give every source a unique name',
      );
    }
    names.add(source.name);
    config.sources.push(source);
  }
  deriveRVersions(r, config);
  return config;
}

/** A cran-binary source without `r:` carries one variant per R minor the environments run. */
function deriveRVersions(r: ConfigReader, config: Config): void {
  config.sources.forEach((source, i) => {
    if (source.type !== 'cran-binary' || source.r.length > 0) return;
    source.r = rMinorsFor(config.environments);
    if (source.r.length === 0) {
      r.fail(
        ['sources', i],
        `cran-binary source "${source.name}" has no R versions`,
        'set r: ["4.3", "4.4"] on the source, or give environments (environments: or environments-from:) with R versions',
      );
    }
  });
}

function readSource(
  r: ConfigReader,
  i: number,
  base: string,
  upstream: string | undefined,
): SourceConfig {
  const at = (key: string): KeyPath => ['sources', i, key];
  const type = r.string(at('type'), { required: true }) as SourceType;
  if (!SOURCE_TYPES.includes(type)) {
    r.fail(at('type'), `unknown source type "${type}"`, `use one of: ${SOURCE_TYPES.join(', ')}`);
  }
  r.keys(['sources', i], SOURCE_KEYS[type]);
  const name = r.string(at('name'), { required: true });
  if (!NAME.test(name)) {
    r.fail(
      at('name'),
      `"${name}" is not a usable source name`,
      'use letters, digits, ".", "_" and "-" (it appears in URLs)',
    );
  }
  const url = r.string(at('url'), { required: true });
  checkTemplate(r, at('url'), url, upstream);
  const snapshot = r.string(at('snapshot')) ?? 'latest';
  if (snapshot !== 'latest' && !isDate(snapshot)) {
    r.fail(
      at('snapshot'),
      `"${snapshot}" is not a snapshot`,
      'write a date as YYYY-MM-DD (e.g. 2026-11-01) or latest',
    );
  }
  const file = (key: string): string | undefined => {
    const v = r.string(at(key));
    return v === undefined ? undefined : resolve(base, v);
  };
  const common = {
    name,
    url,
    snapshot,
    allowMissing: r.boolean(at('allow-missing'), false),
    versions: readVersions(r, i),
  };
  const optional = {
    ...optionalProp('packages', r.strings(at('packages'))),
    ...optionalProp('requirements', file('requirements')),
    ...optionalProp('renvLock', file('renv-lock')),
    ...optionalProp('description', file('description')),
    ...optionalProp('connectManifest', file('connect-manifest')),
  };
  switch (type) {
    case 'cran':
      return {
        ...common,
        ...optional,
        type,
        suggests: r.boolean(at('suggests'), false),
        archive: r.boolean(at('archive'), false),
      };
    case 'cran-binary': {
      const distribution = r.string(at('distribution'), { required: true });
      const rVersions = (r.strings(at('r')) ?? []).map((v, j) =>
        rMinor(r, ['sources', i, 'r', j], v),
      );
      return {
        ...common,
        ...optional,
        type,
        distribution,
        r: rVersions,
        fallbackSource: r.boolean(at('fallback-source'), true),
        suggests: r.boolean(at('suggests'), false),
        archive: r.boolean(at('archive'), false),
      };
    }
    case 'pypi': {
      const sdists = (r.string(at('sdists')) ?? 'auto') as SdistPolicy;
      if (!['auto', 'always', 'never'].includes(sdists)) {
        r.fail(at('sdists'), `"${sdists}" is not an sdist policy`, 'use auto, always or never');
      }
      return { ...common, ...optional, type, sdists, metadata: r.boolean(at('metadata'), true) };
    }
  }
}

function readVersions(r: ConfigReader, i: number): VersionsPolicy {
  const latest = r.integer(['sources', i, 'latest'], { min: 1, max: 10000 });
  const versions = r.string(['sources', i, 'versions']);
  if (latest !== undefined && versions !== undefined) {
    r.fail(['sources', i, 'latest'], 'both "versions" and "latest" are set', 'keep one of them');
  }
  if (latest !== undefined) return { latest };
  if (versions === undefined || versions === 'newest') return 'newest';
  if (versions === 'all') return 'all';
  return r.fail(
    ['sources', i, 'versions'],
    `"${versions}" is not a versions policy`,
    'use newest or all, or latest: N',
  );
}

function checkTemplate(
  r: ConfigReader,
  path: KeyPath,
  url: string,
  upstream: string | undefined,
): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    httpUrl(r, path, url.replaceAll('{snapshot}', 'latest'));
  } else if (upstream === undefined) {
    r.fail(
      path,
      `"${url}" is relative but no upstream is set`,
      'add "upstream: https://host" at the top, or write an absolute URL',
    );
  }
  const unknown = url.match(/\{(?!snapshot\})[^}]*\}/);
  if (unknown)
    r.fail(path, `unknown placeholder ${unknown[0]}`, 'the only placeholder is {snapshot}');
}

function httpUrl(r: ConfigReader, path: KeyPath, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return r.fail(
      path,
      `"${value}" is not a URL`,
      'write a full URL such as https://host.example/path',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    r.fail(path, `"${value}" is not an http(s) URL`, 'use http:// or https://');
  }
}

function rMinor(r: ConfigReader, path: KeyPath, value: string): string {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(value);
  if (!m)
    return r.fail(
      path,
      `"${value}" is not an R version`,
      'write R versions as "4.3" (quoted in YAML)',
    );
  return `${m[1]}.${m[2]}`;
}

function parseRateAt(r: ConfigReader, value: string): number {
  try {
    return parseRate(value);
  } catch (err) {
    return r.fail(
      ['limit-rate'],
      (err as Error).message,
      'write a rate such as 20M (MiB/s) or 500K',
    );
  }
}

function isDate(value: string): boolean {
  if (!SNAPSHOT_ID.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function optionalProp<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
