/**
 * Which snapshots `airlock prune` removes, the same rules for a workspace and a repository:
 *
 * - `--keep N`: per source, all but the newest N (N ≥ 1);
 * - `--before DATE`: per source, those whose id sorts before DATE (ids are YYYY-MM-DD), but
 *   never the newest one, which `latest` serves;
 * - both: only those older than DATE that are not among the newest N;
 * - `--snapshot SOURCE/ID` (or `ID` for every source that has it): these, whatever the rules
 *   above say, even the newest or the only one of a source. Naming is the one way to remove
 *   what `latest` serves.
 *
 * `--keep 0` is refused rather than read as "everything": removing every snapshot of a source
 * is an outage, and a demanding operator wants to say which ones by name.
 */
import { UsageError } from '../errors.js';

export interface SnapshotName {
  /** Undefined: the id names that snapshot in every source that has it. */
  source?: string;
  snapshot: string;
  /** As the operator typed it, for messages. */
  text: string;
}

export interface RetentionRule {
  keep?: number;
  before?: string;
  named: SnapshotName[];
}

export interface RetentionInput {
  keep?: number;
  before?: string;
  snapshot?: readonly string[];
}

export interface Candidate {
  source: string;
  snapshot: string;
  /** False for snapshots the rules must not count or touch (an unfinished download). */
  eligible: boolean;
}

export type DropReason = 'keep' | 'before' | 'named';

export interface Selection<C extends Candidate> {
  drop: { candidate: C; reason: DropReason }[];
  /** Names that matched no snapshot. */
  unmatched: SnapshotName[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Validates the command line's selectors into a rule; no selector at all is a usage error. */
export function parseRetention(input: RetentionInput): RetentionRule {
  const named = (input.snapshot ?? []).map(parseSnapshotName);
  if (input.keep === undefined && input.before === undefined && named.length === 0) {
    throw new UsageError('prune needs to be told what to remove', {
      hint: 'give --keep N (newest N per source stay), --before YYYY-MM-DD, or --snapshot SOURCE/ID; add --dry-run to see the result first',
    });
  }
  if (input.keep !== undefined) {
    if (!Number.isSafeInteger(input.keep) || input.keep < 0) {
      throw new UsageError(`--keep ${input.keep} is not a number of snapshots`, {
        hint: 'give a whole number of 1 or more',
      });
    }
    if (input.keep === 0) {
      throw new UsageError('--keep 0 would remove every snapshot, including what latest serves', {
        hint: 'keep at least 1; to remove the last snapshots of a source, name them with --snapshot SOURCE/ID',
      });
    }
  }
  if (input.before !== undefined && !isDate(input.before)) {
    throw new UsageError(`--before ${JSON.stringify(input.before)} is not a date`, {
      hint: 'write it as YYYY-MM-DD; snapshots with an earlier id go',
    });
  }
  return {
    ...(input.keep === undefined ? {} : { keep: input.keep }),
    ...(input.before === undefined ? {} : { before: input.before }),
    named,
  };
}

export function parseSnapshotName(text: string): SnapshotName {
  const parts = text.split('/');
  const safe = (s: string | undefined) => s !== undefined && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s);
  if (parts.length === 1 && safe(parts[0])) return { snapshot: parts[0]!, text };
  if (parts.length === 2 && safe(parts[0]) && safe(parts[1])) {
    return { source: parts[0]!, snapshot: parts[1]!, text };
  }
  throw new UsageError(`--snapshot ${JSON.stringify(text)} does not name a snapshot`, {
    hint: 'write SOURCE/ID (cran/2026-11-01), or ID alone for that id in every source',
  });
}

export function selectSnapshots<C extends Candidate>(
  candidates: readonly C[],
  rule: RetentionRule,
): Selection<C> {
  const drop = new Map<C, DropReason>();
  const bySource = new Map<string, C[]>();
  for (const c of candidates) {
    if (!c.eligible) continue;
    const list = bySource.get(c.source) ?? [];
    list.push(c);
    bySource.set(c.source, list);
  }
  if (rule.keep !== undefined || rule.before !== undefined) {
    for (const list of bySource.values()) {
      // Newest first; the newest is what latest serves and is never removed by a rule.
      const newestFirst = [...list].sort((a, b) => compare(b.snapshot, a.snapshot));
      const keep = Math.max(1, rule.keep ?? 1);
      newestFirst.forEach((c, i) => {
        if (i < keep) return;
        if (rule.before !== undefined && compare(c.snapshot, rule.before) >= 0) return;
        drop.set(c, rule.before !== undefined ? 'before' : 'keep');
      });
    }
  }
  const unmatched: SnapshotName[] = [];
  for (const name of rule.named) {
    const hits = candidates.filter(
      (c) =>
        c.snapshot === name.snapshot && (name.source === undefined || c.source === name.source),
    );
    if (hits.length === 0) unmatched.push(name);
    for (const c of hits) drop.set(c, 'named');
  }
  const ordered = candidates.filter((c) => drop.has(c));
  return {
    drop: ordered.map((candidate) => ({ candidate, reason: drop.get(candidate)! })),
    unmatched,
  };
}

/** The name's snapshot is one of these (source, snapshot) pairs. */
export function nameMatches(name: SnapshotName, source: string, snapshot: string): boolean {
  return name.snapshot === snapshot && (name.source === undefined || name.source === source);
}

function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
