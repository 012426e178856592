/**
 * PEP 440 version specifiers ('>=2.31,<3', '~=1.4.5', '==1.0.*', '===foo'), with the
 * pre-release and exclusive-comparison rules of the reference implementation
 * (`packaging.specifiers`). Versions themselves are in pep440-version.ts.
 */
import {
  baseVersion,
  compareVersions,
  formatVersion,
  isPostrelease,
  isPrerelease,
  parseVersion,
  publicVersion,
  type Version,
} from './pep440-version.js';

export * from './pep440-version.js';

export type SpecifierOperator = '~=' | '===' | '==' | '!=' | '<=' | '>=' | '<' | '>';

export interface Specifier {
  operator: SpecifierOperator;
  /** The version text after the operator, as written (may end in '.*' for == and !=). */
  version: string;
}

/** A specifier that does not follow PEP 440; callers wrap it with the file and line. */
export class InvalidSpecifierError extends Error {
  override name = 'InvalidSpecifierError';
}

const SPECIFIER = /^\s*(~=|===|==|!=|<=|>=|<|>)\s*(\S+)\s*$/;
const WILDCARD_PREFIX = /^v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*$/i;

export function parseSpecifier(text: string): Specifier {
  const match = SPECIFIER.exec(text);
  if (!match) throw new InvalidSpecifierError(`invalid version specifier '${text.trim()}'`);
  const operator = match[1] as SpecifierOperator;
  const version = match[2]!;
  if (operator === '===') return { operator, version };
  const wildcard = version.endsWith('.*');
  const parsed = parseVersion(wildcard ? version.slice(0, -2) : version);
  const fail = (why: string) =>
    new InvalidSpecifierError(`invalid version specifier '${operator}${version}': ${why}`);
  if (!parsed) throw fail(`'${version}' is not a PEP 440 version`);
  if (wildcard) {
    if (operator !== '==' && operator !== '!=') throw fail(`'.*' is only allowed with == and !=`);
    if (!WILDCARD_PREFIX.test(version.slice(0, -2))) throw fail(`'.*' must follow a release`);
  }
  if (parsed.local && operator !== '==' && operator !== '!=') {
    throw fail('a local version is only allowed with == and !=');
  }
  if (operator === '~=' && parsed.release.length < 2) {
    throw fail('~= needs at least two release segments (~=2.2, not ~=2)');
  }
  return { operator, version };
}

/** True when the specifier names a pre-release, which opts the whole set into them. */
function mentionsPrerelease(spec: Specifier): boolean {
  if (spec.operator === '!=') return false;
  const text = spec.version.endsWith('.*') ? spec.version.slice(0, -2) : spec.version;
  const parsed = parseVersion(text);
  return parsed !== undefined && isPrerelease(parsed);
}

export interface PrereleaseOptions {
  /** true: accept pre-releases; false: never; absent: the PEP 440 default rules. */
  prereleases?: boolean;
}

export class SpecifierSet {
  readonly specifiers: readonly Specifier[];

  constructor(specifiers: readonly Specifier[] = []) {
    this.specifiers = specifiers;
  }

  get isEmpty(): boolean {
    return this.specifiers.length === 0;
  }

  /** Whether any specifier names a pre-release ('>=1.0b1'), which allows pre-releases. */
  get mentionsPrerelease(): boolean {
    return this.specifiers.some(mentionsPrerelease);
  }

  /** True when the set is exactly one '==' (no wildcard) or '===' pin. */
  get isExactPin(): boolean {
    const [only, ...rest] = this.specifiers;
    if (!only || rest.length > 0) return false;
    return only.operator === '===' || (only.operator === '==' && !only.version.endsWith('.*'));
  }

  /**
   * Whether one version satisfies every specifier. Pre-releases are excluded unless
   * `prereleases` is true or a specifier names one; the "unless no final release satisfies"
   * rule needs the candidate list, so it lives in `filter`. A legacy (non-PEP 440) version
   * only ever matches '==='.
   */
  contains(version: string | Version, options: PrereleaseOptions = {}): boolean {
    const parsed = typeof version === 'string' ? parseVersion(version) : version;
    if (!parsed) {
      const text = String(version).trim().toLowerCase();
      return (
        this.specifiers.length > 0 &&
        this.specifiers.every((s) => s.operator === '===' && s.version.toLowerCase() === text)
      );
    }
    const allowPre = options.prereleases ?? this.mentionsPrerelease;
    if (isPrerelease(parsed) && !allowPre) return false;
    const raw = typeof version === 'string' ? version : undefined;
    return this.specifiers.every((spec) => specifierMatches(spec, parsed, raw));
  }

  /**
   * The candidates this set accepts, in their given order. With `prereleases` absent this is
   * PEP 440's rule: pre-releases only when a specifier names one or when no final (or post)
   * release satisfies the set.
   */
  filter<T>(
    candidates: readonly T[],
    versionOf: (c: T) => string,
    options: PrereleaseOptions = {},
  ): T[] {
    if (options.prereleases !== undefined) {
      return candidates.filter((c) => this.contains(versionOf(c), options));
    }
    const matching = candidates.filter((c) => this.contains(versionOf(c), { prereleases: true }));
    if (this.mentionsPrerelease) return matching;
    const finals = matching.filter((c) => {
      const parsed = parseVersion(versionOf(c));
      return parsed === undefined || !isPrerelease(parsed);
    });
    return finals.length > 0 ? finals : matching;
  }

  /** A set that requires both this set and `other`. */
  and(other: SpecifierSet): SpecifierSet {
    return new SpecifierSet([...this.specifiers, ...other.specifiers]);
  }

  toString(): string {
    return this.specifiers.map((s) => `${s.operator}${s.version}`).join(',');
  }
}

/** Parses a comma-separated specifier set; '' is the empty set, which accepts any version. */
export function parseSpecifierSet(text: string): SpecifierSet {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part, i, all) => part !== '' || all.length > 1);
  if (parts.some((part) => part === '')) {
    throw new InvalidSpecifierError(`invalid version specifier set '${text}': empty specifier`);
  }
  return new SpecifierSet(parts.map(parseSpecifier));
}

function specifierMatches(spec: Specifier, candidate: Version, raw: string | undefined): boolean {
  if (spec.operator === '===') {
    const wanted = spec.version.toLowerCase();
    return (
      formatVersion(candidate).toLowerCase() === wanted || raw?.trim().toLowerCase() === wanted
    );
  }
  if (spec.version.endsWith('.*')) {
    const prefix = parseVersion(spec.version.slice(0, -2))!;
    const matches = prefixMatches(candidate, prefix.epoch, prefix.release);
    return spec.operator === '==' ? matches : !matches;
  }
  const target = parseVersion(spec.version)!;
  switch (spec.operator) {
    case '==':
      return equalsSpec(candidate, target);
    case '!=':
      return !equalsSpec(candidate, target);
    case '<=':
      return compareVersions(publicVersion(candidate), target) <= 0;
    case '>=':
      return compareVersions(publicVersion(candidate), target) >= 0;
    case '<':
      return lessThan(candidate, target);
    case '>':
      return greaterThan(candidate, target);
    case '~=':
      return (
        compareVersions(publicVersion(candidate), target) >= 0 &&
        prefixMatches(candidate, target.epoch, target.release.slice(0, -1))
      );
  }
}

// '==1.0' ignores the candidate's local segment; '==1.0+abc' compares it.
function equalsSpec(candidate: Version, target: Version): boolean {
  const subject = target.local ? candidate : publicVersion(candidate);
  return compareVersions(subject, target) === 0;
}

// '==1.1.*': the candidate's release, padded with zeros, starts with 1.1 (so 1.1rc1,
// 1.1.post1 and 1.1.5+local all match; pre-release admission is decided elsewhere).
function prefixMatches(candidate: Version, epoch: number, release: number[]): boolean {
  if (candidate.epoch !== epoch) return false;
  return release.every((part, i) => (candidate.release[i] ?? 0) === part);
}

// '<1.7' must not admit 1.7's own pre-releases (1.7rc1) unless the specifier is one itself.
function lessThan(candidate: Version, target: Version): boolean {
  if (compareVersions(candidate, target) >= 0) return false;
  if (!isPrerelease(target) && isPrerelease(candidate)) {
    return compareVersions(baseVersion(candidate), baseVersion(target)) !== 0;
  }
  return true;
}

// '>1.7' must not admit 1.7.post1 (unless the specifier is a post release) nor 1.7+local.
function greaterThan(candidate: Version, target: Version): boolean {
  if (compareVersions(candidate, target) <= 0) return false;
  const sameBase = compareVersions(baseVersion(candidate), baseVersion(target)) === 0;
  if (!isPostrelease(target) && isPostrelease(candidate) && sameBase) return false;
  if (candidate.local && sameBase) return false;
  return true;
}
