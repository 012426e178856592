/**
 * The domain values every stage shares: what a snapshot holds, how a file got there, and how
 * snapshots travel (bundle index records) and rest (repository records). Stage-specific types
 * live with their stage; these are the ones that cross a folder boundary.
 */

export type SourceType = 'cran' | 'cran-binary' | 'pypi';

/**
 * The R-version variant of a file. '' is the plain file (a CRAN source package, a wheel);
 * 'R-4.3' is the binary built for R 4.3, which `cran-binary` sources serve by User-Agent.
 */
export type Variant = '' | `R-${number}.${number}`;

export function variantForR(minor: string): Variant {
  return `R-${minor}` as Variant;
}

/** Which R minor ("4.3") a variant is for, or undefined for the plain variant. */
export function rMinorOfVariant(variant: Variant): string | undefined {
  return variant === '' ? undefined : variant.slice(2);
}

/**
 * What a file is to its snapshot. `index` files (PACKAGES, PACKAGES.gz, a PyPI project's
 * normalized PEP 691 JSON) are served as-is; `package` files are what clients install;
 * `metadata` is a PEP 658 `.metadata` file beside its distribution.
 */
export type EntryRole = 'index' | 'package' | 'metadata';

export type HashAlgorithm = 'sha256' | 'md5';

export interface UpstreamHash {
  algorithm: HashAlgorithm;
  /** lowercase hex */
  value: string;
}

/** Where a file came from: travels with the file from workspace to bundle to repository. */
export interface Provenance {
  /** The upstream URL it was fetched from (credentials redacted). Absent for generated files. */
  url?: string;
  /** The hash the upstream published for it (PyPI sha256, CRAN MD5sum), when it published one. */
  upstreamHash?: UpstreamHash;
  /** ISO 8601 time the bytes were fetched (or generated). */
  fetchedAt: string;
  /** True for files airlock wrote itself (a filtered PACKAGES, a normalized PyPI project page). */
  generated?: boolean;
}

/**
 * One file of a snapshot. `path` is relative to the snapshot's root, with '/' separators and
 * no leading slash:
 *   cran / cran-binary: 'src/contrib/PACKAGES.gz', 'src/contrib/foo_1.0.tar.gz',
 *                       'src/contrib/Archive/foo/foo_0.9.tar.gz'
 *   pypi (root is the simple index): '{project}/' is the project page (role index, a PEP 691
 *                       JSON document whose file URLs are bare file names), '{project}/{file}'
 *                       a distribution, '{project}/{file}.metadata' its PEP 658 metadata.
 */
export interface SnapshotEntry {
  path: string;
  variant: Variant;
  role: EntryRole;
  sha256: string;
  size: number;
  /** Package or (normalized) project name, for package and metadata files. */
  package?: string;
  version?: string;
  provenance: Provenance;
}

/** A snapshot identity: a source's state at a date. */
export interface SnapshotRef {
  source: string;
  /** Resolved id: 'YYYY-MM-DD' ('latest' is resolved to the download date and recorded). */
  snapshot: string;
}

/** What a snapshot needs to be served at the same URLs the upstream used. */
export interface SnapshotDescriptor extends SnapshotRef {
  type: SourceType;
  /** What the config asked for: a date or 'latest'. */
  requested: string;
  /**
   * Path template the snapshot is served under, relative to the server root, containing
   * '{snapshot}': 'cran/{snapshot}', 'cran/__linux__/jammy/{snapshot}', 'pypi/{snapshot}/simple'.
   * See servedTemplate() in src/config/served-path.ts.
   */
  servedTemplate: string;
  /** cran-binary only: the Linux distribution ('jammy'). */
  distribution?: string;
  /** Variants present in the snapshot (['R-4.3', 'R-4.4', ''] for cran-binary; [''] otherwise). */
  variants: Variant[];
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const SNAPSHOT_ID = /^\d{4}-\d{2}-\d{2}$/;

/** Normalized PyPI project name (PEP 503). */
export function normalizeProjectName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
