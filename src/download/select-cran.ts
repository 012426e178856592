/** Which packages of a CRAN-like index a source carries. */
import { ConfigError } from '../errors.js';
import type { CranBinarySourceConfig, CranSourceConfig } from '../config/types.js';
import type { CranIndex, CranPackage } from '../upstream/cran-index.js';
import type { PlanProblem } from './plan-types.js';

export interface CranSelection {
  /** True when the whole index is carried (no package list). */
  everything: boolean;
  packages: Array<{ pkg: CranPackage; archived: boolean; reasons: string[] }>;
  problems: PlanProblem[];
}

export function selectCranPackages(
  index: CranIndex,
  source: CranSourceConfig | CranBinarySourceConfig,
  label: string,
): CranSelection {
  if (source.packages === undefined) {
    return {
      everything: true,
      packages: index.packages.map((pkg) => ({ pkg, archived: false, reasons: [] })),
      problems: [],
    };
  }
  const packages: CranSelection['packages'] = [];
  const problems: PlanProblem[] = [];
  for (const name of source.packages) {
    const found = index.byName.get(name);
    if (found === undefined) {
      problems.push({ source: source.name, requirement: name, why: `${name} not in ${label}` });
      continue;
    }
    for (const pkg of found) packages.push({ pkg, archived: false, reasons: [name] });
  }
  if (problems.length > 0 && !source.allowMissing) {
    throw new ConfigError(`${problems.map((p) => p.why).join('; ')}`, {
      hint: `fix the package names of source ${source.name}, or set "allow-missing: true" to carry the rest`,
    });
  }
  return { everything: false, packages, problems };
}
