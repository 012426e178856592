/**
 * The R dependency closure of a package list over one CRAN-like index.
 *
 * Breadth first from the roots over Depends, Imports and LinkingTo (and the roots' own
 * Suggests when asked, as install.packages(dependencies = TRUE) does: Suggests of
 * dependencies are not followed, or the closure would be most of CRAN). Each package gets the
 * newest version that satisfies every constraint seen so far; when a constraint found later
 * rules out the version already chosen, the choice is redone (the earlier choice's
 * dependencies stay selected: carrying a little more is harmless) or, when no version fits,
 * reported as unsatisfied. Base packages ship with R and are skipped; recommended packages are
 * skipped when reached as dependencies (R installations ship them) but carried when asked for
 * by name. Breadth first means each reported chain is a shortest one, and a name is expanded
 * once per chosen version, so cycles terminate.
 */
import {
  compareRVersions,
  R_BASE_PACKAGES,
  R_RECOMMENDED_PACKAGES,
  satisfiesR,
  type RConstraint,
  type RDependency,
} from '../upstream/cran-index.js';
import type { RRequirement } from './r-inputs.js';

/** What the closure needs of an index entry (CranPackage has all of it). */
export interface RIndexPackage {
  name: string;
  version: string;
  depends: readonly RDependency[];
  imports: readonly RDependency[];
  linkingTo: readonly RDependency[];
  suggests: readonly RDependency[];
}

export interface RIndexLike<P extends RIndexPackage> {
  byName: ReadonlyMap<string, readonly P[]>;
}

export interface RClosureOptions {
  suggests?: boolean;
  /** Also select every other version that satisfies the constraints (older ones, from Archive). */
  archive?: boolean;
  /** Names the index in messages: 'cran/2026-11-01'. */
  sourceLabel: string;
}

export interface RSelected<P> {
  pkg: P;
  /** [pkg], or with `archive` every satisfying version, newest first. */
  versions: P[];
  /** One chain per distinct dependent: 'airA -> airB'. */
  reasons: string[];
}

export interface RMissing {
  name: string;
  chain: string[];
  message: string;
}

export interface RUnsatisfied extends RMissing {
  constraints: RConstraint[];
  available: string[];
}

export interface RClosure<P> {
  selected: Map<string, RSelected<P>>;
  missing: RMissing[];
  unsatisfied: RUnsatisfied[];
}

interface Visit {
  name: string;
  chain: string[];
  constraint?: RConstraint | undefined;
}

export function resolveRClosure<P extends RIndexPackage>(
  index: RIndexLike<P>,
  roots: readonly RRequirement[],
  options: RClosureOptions,
): RClosure<P> {
  const selected = new Map<string, RSelected<P>>();
  const reasonsByParent = new Map<string, Map<string, string>>();
  const constraints = new Map<string, RConstraint[]>();
  const missing = new Map<string, RMissing>();
  const unsatisfied = new Map<string, RUnsatisfied>();
  const queue: Visit[] = roots.map((r) => ({
    name: r.name,
    chain: [r.name],
    constraint: r.constraint,
  }));

  for (let visit = queue.shift(); visit; visit = queue.shift()) {
    const { name, chain, constraint } = visit;
    const isRoot = chain.length === 1;
    if (R_BASE_PACKAGES.has(name) || (!isRoot && R_RECOMMENDED_PACKAGES.has(name))) continue;
    const known = constraints.get(name) ?? [];
    if (constraint) known.push(constraint);
    constraints.set(name, known);
    addReason(reasonsByParent, name, chain);

    const current = selected.get(name);
    if (current && (!constraint || satisfiesR(current.pkg.version, constraint))) continue;
    const candidates = index.byName.get(name) ?? [];
    if (candidates.length === 0) {
      if (!missing.has(name)) missing.set(name, missingEntry(name, chain, options.sourceLabel));
      continue;
    }
    const fitting = candidates
      .filter((c) => known.every((k) => satisfiesR(c.version, k)))
      .sort((a, b) => compareRVersions(b.version, a.version));
    const pick = fitting[0];
    if (!pick) {
      if (!unsatisfied.has(name))
        unsatisfied.set(name, unsatisfiedEntry(name, chain, known, candidates, options));
      continue;
    }
    selected.set(name, { pkg: pick, versions: options.archive ? fitting : [pick], reasons: [] });
    const fields = [pick.depends, pick.imports, pick.linkingTo];
    if (options.suggests && isRoot) fields.push(pick.suggests);
    for (const dep of fields.flat()) {
      queue.push({ name: dep.name, chain: [...chain, dep.name], constraint: dep.constraint });
    }
  }

  for (const [name, entry] of selected)
    entry.reasons = [...(reasonsByParent.get(name)?.values() ?? [])];
  return { selected, missing: [...missing.values()], unsatisfied: [...unsatisfied.values()] };
}

function addReason(reasons: Map<string, Map<string, string>>, name: string, chain: string[]): void {
  const byParent = reasons.get(name) ?? new Map<string, string>();
  const parent = chain.at(-2) ?? '';
  if (!byParent.has(parent)) byParent.set(parent, chain.join(' -> '));
  reasons.set(name, byParent);
}

function missingEntry(name: string, chain: string[], sourceLabel: string): RMissing {
  return { name, chain, message: `${chain.join(' -> ')}: ${name} not in ${sourceLabel}` };
}

function unsatisfiedEntry(
  name: string,
  chain: string[],
  constraints: RConstraint[],
  candidates: readonly RIndexPackage[],
  options: RClosureOptions,
): RUnsatisfied {
  const wanted = constraints.map((c) => `${c.op} ${c.version}`).join(', ');
  const available = candidates.map((c) => c.version);
  const hint = options.archive ? '' : ' (archive: true also considers older versions)';
  return {
    name,
    chain,
    constraints,
    available,
    message: `${chain.join(' -> ')}: ${name} (${wanted}) not satisfiable in ${options.sourceLabel}, which has ${available.join(', ')}${hint}`,
  };
}
