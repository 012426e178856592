/** What a download will do, source by source: the plan dry-run prints and the run executes. */
import type { Dispatcher } from 'undici';
import type { Config, SourceConfig } from '../config/types.js';
import type {
  EntryRole,
  SnapshotDescriptor,
  SnapshotEntry,
  UpstreamHash,
  Variant,
} from '../model.js';
import type { Workspace } from '../workspace/workspace.js';
import type { RateLimiter } from '../fetch/rate-limit.js';
import type { RetryEvent } from '../fetch/retry.js';
import type { PlanFiles } from './plan-files.js';
import type { MetadataFetches, MetadataFetchPolicy } from './planning-fetches.js';

/** A package file to fetch (or, when `present`, one the workspace already holds). */
export interface PlannedFile {
  url: string;
  /** Request headers: the R User-Agent that selects a binary variant. */
  headers?: Record<string, string>;
  path: string;
  variant: Variant;
  role: EntryRole;
  package?: string;
  version?: string;
  /** Size from the index, when the index gives one. */
  size?: number;
  upstreamHash?: UpstreamHash;
  /** sha256 of the bytes already in the workspace (dedupe by sha256 or CRAN's MD5). */
  present?: string;
  /** Why it is carried: requirement chains and environments (issue 6); empty for "everything". */
  reasons: string[];
  /** The target environments that use it; absent or empty when no environment decided. */
  environments?: string[];
}

/** What one target environment uses of a source's plan. */
export interface EnvironmentTotals {
  name: string;
  files: number;
  /** Of the files whose size the index gives. */
  bytes: number;
  unknownSizes: number;
  /** Of those, not yet in the workspace. */
  newFiles: number;
  newBytes: number;
}

/** A requirement some environment cannot satisfy, or a dependency missing from the snapshot. */
export interface PlanProblem {
  source: string;
  /** A distribution the problem is about (its dependencies unknown), rather than a requirement. */
  file?: string;
  environment?: string;
  requirement: string;
  why: string;
}

export interface SourcePlan {
  source: SourceConfig;
  descriptor: SnapshotDescriptor;
  /** Upstream URL of the snapshot's root. */
  baseUrl: string;
  /** Index files, already fetched (or generated) and stored as blobs while planning. */
  indexes: SnapshotEntry[];
  /** On disk, read back in order (plan-files.ts). */
  files: PlanFiles;
  problems: PlanProblem[];
  /** Per target environment: how many of the files it uses (issue 6); empty without environments. */
  environments: EnvironmentTotals[];
  /** What the plan chose on the operator's behalf, or ignored ('image X skipped: ...'). */
  notes: string[];
  /** Distributions planning fetched (or, told not to, did not) to read dependencies. */
  metadataFetches: MetadataFetches;
}

export interface PlanContext {
  config: Config;
  dispatcher: Dispatcher;
  workspace: Workspace;
  signal?: AbortSignal;
  now: Date;
  onEvent?: (event: DownloadEvent) => void;
  /** The run's bandwidth cap: planning's fetches share it with the transfers. */
  limiter?: RateLimiter;
  /** Whether planning may fetch whole distributions to read dependencies (default always). */
  metadataFetch?: MetadataFetchPolicy;
  onRetry?: (event: RetryEvent & { url: string; reason: string }) => void;
  /** Size files the index gives no size for with HEAD requests (a dry run's disk estimate). */
  sizeUnknown?: boolean;
}

export type DownloadEvent =
  | { type: 'index'; source: string; url: string }
  | {
      type: 'planned';
      source: string;
      snapshot: string;
      files: number;
      present: number;
      bytes: number;
      unknownSizes: number;
    }
  | { type: 'fetch-start'; source: string; snapshot: string; files: number; bytes: number }
  | {
      type: 'file';
      source: string;
      path: string;
      variant: Variant;
      bytes: number;
      transferred: number;
      skipped: boolean;
    }
  | { type: 'progress'; source: string; bytes: number }
  /** Planning fetches a whole distribution to read its dependencies (no PEP 658 file). */
  | { type: 'metadata-fetch'; source: string; url: string; filename: string; size?: number }
  | {
      type: 'metadata-fetched';
      source: string;
      filename: string;
      bytes: number;
      transferred: number;
    }
  /** A request failed and is tried again: `attempt` of `of` failed, the next in `delayMs`. */
  | {
      type: 'retry';
      source: string;
      url: string;
      attempt: number;
      of: number;
      delayMs: number;
      reason: string;
    }
  | {
      type: 'failed';
      source: string;
      url: string;
      path: string;
      variant: Variant;
      reason: string;
      code: string;
    }
  | { type: 'source-done'; source: string; summary: SourceSummary };

export interface FailedFile {
  url: string;
  path: string;
  /** Which R minor's binary failed (one URL serves one file per R version). */
  variant: Variant;
  reason: string;
  code: string;
  exitCode: number;
}

export interface SourceSummary {
  source: string;
  snapshot: string;
  planned: number;
  fetched: number;
  skipped: number;
  failed: number;
  bytes: number;
  transferred: number;
  seconds: number;
  complete: boolean;
  failures: FailedFile[];
}
