/**
 * Which packages of a CRAN-like index a source carries: everything (no package inputs), or
 * the dependency closure of its roots over Depends, Imports and LinkingTo (resolveRClosure).
 */
import { ConfigError } from '../errors.js';
import type { CranBinarySourceConfig, CranSourceConfig } from '../config/types.js';
import type { CranIndex, CranPackage } from '../upstream/cran-index.js';
import { resolveRClosure, type RUnsatisfied } from '../select/r-closure.js';
import type { PlanProblem } from './plan-types.js';
import type { RRoots } from './selection-roots.js';

export interface CranSelection {
  /** True when the whole index is carried (no package list). */
  everything: boolean;
  /** In index order, so a filtered PACKAGES keeps the upstream's order. */
  packages: Array<{ pkg: CranPackage; archived: boolean; reasons: string[] }>;
  problems: PlanProblem[];
  /**
   * With `archive: true`: packages the index has, but at no version the constraints accept
   * (an renv.lock pin of an older version). The caller looks for them in Archive/{pkg}/.
   */
  fromArchive: RUnsatisfied[];
}

export function selectCranPackages(
  index: CranIndex,
  source: CranSourceConfig | CranBinarySourceConfig,
  label: string,
  roots: RRoots | undefined,
): CranSelection {
  if (roots === undefined) {
    return {
      everything: true,
      packages: index.packages.map((pkg) => ({ pkg, archived: false, reasons: [] })),
      problems: [],
      fromArchive: [],
    };
  }
  const closure = resolveRClosure(index, roots.requirements, {
    suggests: source.suggests,
    archive: source.archive,
    sourceLabel: label,
  });
  // An older version may be in Archive/: the caller finds out (and reports it if not).
  const fromArchive = source.archive
    ? closure.unsatisfied.filter((u) => u.available.length > 0)
    : [];
  const unsatisfied = closure.unsatisfied.filter((u) => !fromArchive.includes(u));
  const problems: PlanProblem[] = [...closure.missing, ...unsatisfied].map((m) => ({
    source: source.name,
    requirement: m.chain.join(' -> '),
    why: m.message,
  }));
  if (problems.length > 0 && !source.allowMissing) {
    const count = problems.length === 1 ? 'a dependency' : `${problems.length} dependencies`;
    throw new ConfigError(
      `${label}: ${count} cannot be carried:\n${problems.map((p) => `  ${p.why}`).join('\n')}`,
      {
        hint: `fix the package list of source ${source.name}, choose a snapshot that has them, or set "allow-missing: true" to carry the rest`,
      },
    );
  }
  // Every version the closure chose, listed where the index lists it: an index that lists
  // several versions of a name (Package Manager does) serves each at its own listed path.
  const reasons = new Map<CranPackage, string[]>();
  for (const entry of closure.selected.values())
    for (const pkg of entry.versions) reasons.set(pkg, entry.reasons);
  const packages = index.packages
    .filter((pkg) => reasons.has(pkg))
    .map((pkg) => ({ pkg, archived: false, reasons: reasons.get(pkg)! }));
  return { everything: false, packages, problems, fromArchive };
}
