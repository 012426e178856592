/**
 * PEP 440 versions: parsing, normalization and ordering, following the reference
 * implementation in `packaging.version`. Specifiers are in pep440.ts, which re-exports this.
 */

export type PreLabel = 'a' | 'b' | 'rc';

export interface Version {
  epoch: number;
  release: number[];
  pre?: [PreLabel, number];
  post?: number;
  dev?: number;
  /** Local segment parts: numbers where the part is all digits, else lowercase strings. */
  local?: Array<number | string>;
}

// The regular expression from PEP 440 Appendix B, which also accepts the alternate
// spellings (alpha, preview, c, rev, r, '-1' as a post release, separators and a 'v').
const VERSION_PATTERN = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?' +
    '(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

const PRE_SPELLINGS: Record<string, PreLabel> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  rc: 'rc',
  pre: 'rc',
  preview: 'rc',
};

/** Parses a PEP 440 version; undefined for a legacy (invalid) version string. */
export function parseVersion(text: string): Version | undefined {
  const match = VERSION_PATTERN.exec(text);
  if (!match?.groups) return undefined;
  const g = match.groups;
  const version: Version = {
    epoch: g.epoch === undefined ? 0 : Number(g.epoch),
    release: g.release!.split('.').map(Number),
  };
  if (g.preL !== undefined) {
    version.pre = [PRE_SPELLINGS[g.preL.toLowerCase()]!, Number(g.preN ?? 0)];
  }
  if (g.post !== undefined) version.post = Number(g.postN1 ?? g.postN2 ?? 0);
  if (g.dev !== undefined) version.dev = Number(g.devN ?? 0);
  if (g.local !== undefined) {
    version.local = g.local
      .toLowerCase()
      .split(/[-_.]/)
      .map((part) => (/^[0-9]+$/.test(part) ? Number(part) : part));
  }
  return version;
}

export function isValidVersion(text: string): boolean {
  return parseVersion(text) !== undefined;
}

/** The normalized form ('1.0.0-RC1' -> '1.0.0rc1', 'v1.0-r2' -> '1.0.post2'). */
export function formatVersion(v: Version): string {
  let text = v.epoch === 0 ? '' : `${v.epoch}!`;
  text += v.release.join('.');
  if (v.pre) text += `${v.pre[0]}${v.pre[1]}`;
  if (v.post !== undefined) text += `.post${v.post}`;
  if (v.dev !== undefined) text += `.dev${v.dev}`;
  if (v.local) text += `+${v.local.join('.')}`;
  return text;
}

/** Normalizes a version string; returns it unchanged when it is not PEP 440. */
export function normalizeVersion(text: string): string {
  const v = parseVersion(text);
  return v ? formatVersion(v) : text;
}

export function isPrerelease(v: Version): boolean {
  return v.pre !== undefined || v.dev !== undefined;
}

export function isPostrelease(v: Version): boolean {
  return v.post !== undefined;
}

/** The version without its local segment. */
export function publicVersion(v: Version): Version {
  const { local: _local, ...rest } = v;
  return rest;
}

/** Epoch and release only ('1!2.0rc1.post3' -> '1!2.0'). */
export function baseVersion(v: Version): Version {
  return { epoch: v.epoch, release: v.release };
}

const PRE_ORDER: Record<PreLabel, number> = { a: 0, b: 1, rc: 2 };

/** Orders two versions: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: Version | string, b: Version | string): number {
  const va = typeof a === 'string' ? parseVersion(a) : a;
  const vb = typeof b === 'string' ? parseVersion(b) : b;
  if (!va || !vb) throw new TypeError(`not a PEP 440 version: ${!va ? String(a) : String(b)}`);
  return (
    va.epoch - vb.epoch ||
    compareRelease(va.release, vb.release) ||
    comparePre(va, vb) ||
    (va.post ?? -1) - (vb.post ?? -1) ||
    (va.dev ?? Infinity) - (vb.dev ?? Infinity) ||
    compareLocal(va.local, vb.local)
  );
}

export function versionsEqual(a: Version, b: Version): boolean {
  return compareVersions(a, b) === 0;
}

// Trailing zeros do not count: 1.0 == 1.0.0.
function compareRelease(a: number[], b: number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

// A dev release of a final version sorts before its pre-releases (1.0.dev0 < 1.0a0), and a
// version without a pre-release sorts after all of its pre-releases.
function preKey(v: Version): [number, number] {
  if (v.pre) return [PRE_ORDER[v.pre[0]], v.pre[1]];
  if (v.post === undefined && v.dev !== undefined) return [-1, 0];
  return [3, 0];
}

function comparePre(a: Version, b: Version): number {
  const [la, na] = preKey(a);
  const [lb, nb] = preKey(b);
  return la - lb || na - nb;
}

// No local segment sorts first; numeric parts sort after alphanumeric ones; a longer local
// segment with the same prefix sorts after the shorter.
function compareLocal(a?: Array<number | string>, b?: Array<number | string>): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (typeof x !== typeof y) return typeof x === 'number' ? 1 : -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
