/** The validated config: everything inside airlock takes these, never the raw YAML. */
import type { SourceType } from '../model.js';
import type { TargetEnvironment } from '../select/environments.js';

export type VersionsPolicy = 'newest' | 'all' | { latest: number };
export type SdistPolicy = 'auto' | 'always' | 'never';

interface SourceConfigBase {
  name: string;
  type: SourceType;
  /** The location template as written: relative to `upstream`, or absolute. */
  url: string;
  /** 'latest' or 'YYYY-MM-DD'. */
  snapshot: string;
  /** Names (cran) or PEP 508 specifiers (pypi); undefined means everything. */
  packages?: string[];
  /** Absolute paths of requirement inputs named by the config (resolved against its folder). */
  requirements?: string;
  renvLock?: string;
  description?: string;
  connectManifest?: string;
  allowMissing: boolean;
  versions: VersionsPolicy;
}

export interface CranSourceConfig extends SourceConfigBase {
  type: 'cran';
  suggests: boolean;
  archive: boolean;
}

export interface CranBinarySourceConfig extends SourceConfigBase {
  type: 'cran-binary';
  distribution: string;
  /** R minors, '4.3'; empty means: derive from the target environments. */
  r: string[];
  /** Also carry the plain (source) files the upstream serves without an R User-Agent. */
  fallbackSource: boolean;
  suggests: boolean;
  archive: boolean;
}

export interface PypiSourceConfig extends SourceConfigBase {
  type: 'pypi';
  sdists: SdistPolicy;
  /** Fetch PEP 658 metadata files where the index advertises them. */
  metadata: boolean;
}

export type SourceConfig = CranSourceConfig | CranBinarySourceConfig | PypiSourceConfig;

/** A target environment, validated (libc filled in from the distribution). */
export type EnvironmentConfig = TargetEnvironment;

export interface Config {
  /** Absolute path of the config file, for messages and to resolve relative paths. */
  file: string;
  upstream?: string;
  proxy?: string;
  caFile?: string;
  concurrency: number;
  /** Bytes per second across all transfers, or undefined for no cap. */
  limitRate?: number;
  /** `environments:` then the environments read from `environments-from:`, resolved at load. */
  environments: EnvironmentConfig[];
  environmentsFrom?: string;
  environmentsDistribution?: string;
  /** What reading the environments left out, for the plan ('image X skipped: matching: none'). */
  environmentNotes: string[];
  sources: SourceConfig[];
}

export const DEFAULT_CONCURRENCY = 8;
