/**
 * R dependency fields (Depends, Imports, LinkingTo, Suggests) and R's package_version order.
 * Re-exported by cran-index.ts, which is where callers import them from.
 */
import { IntegrityError } from '../errors.js';

export type RVersionOp = '>=' | '<=' | '>' | '<' | '==' | '!=';

export interface RConstraint {
  op: RVersionOp;
  version: string;
}

export interface RDependency {
  name: string;
  constraint?: RConstraint;
}

// `name`, then an optional `(op version)`; R itself tolerates any spacing, and `pkg(>=1.0)`.
const DEPENDENCY = /^([A-Za-z0-9._]+)\s*(?:\(\s*(>=|<=|==|!=|>|<)\s*([^\s()]+)\s*\))?$/;
const R_VERSION = /^\d+(?:[.-]\d+)*$/;

/**
 * Splits a dependency field into its entries. Newlines, doubled spaces, empty entries and a
 * trailing comma are accepted, as R accepts them. `where` names the package for messages.
 */
export function parseDependencyField(value: string, where = 'dependency field'): RDependency[] {
  const dependencies: RDependency[] = [];
  for (const part of value.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const match = DEPENDENCY.exec(entry);
    const version = match?.[3];
    if (match === null || (version !== undefined && !R_VERSION.test(version))) {
      throw new IntegrityError(`${where}: cannot parse dependency ${JSON.stringify(entry)}`, {
        code: 'EINDEX',
        hint: 'expected "pkg" or "pkg (>= 1.0)"; the upstream index is damaged or not an R repository',
      });
    }
    const name = match[1] as string;
    const op = match[2] as RVersionOp | undefined;
    dependencies.push(op && version ? { name, constraint: { op, version } } : { name });
  }
  return dependencies;
}

/** True for a version R's package_version() accepts ('1.0', '1.0-3', '2024.1.15'). */
export function isRVersion(version: string): boolean {
  return R_VERSION.test(version);
}

/**
 * Compares two R versions as package_version() does: components split on '.' or '-' and
 * compared as integers, missing trailing components count as 0 ('1.0' == '1.0.0',
 * '1.0-1' == '1.0.1', '1.10' > '1.9'). Returns <0, 0 or >0.
 */
export function compareRVersions(a: string, b: string): number {
  const left = a.trim().split(/[.-]/);
  const right = b.trim().split(/[.-]/);
  const count = Math.max(left.length, right.length);
  for (let i = 0; i < count; i++) {
    const order = compareDigits(left[i] ?? '0', right[i] ?? '0');
    if (order !== 0) return order;
  }
  return 0;
}

// Compares digit strings of any length without converting them (date-like components
// such as 20240115 are common, and a long one would lose precision as a number).
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether `version` meets `constraint` (always true without a constraint). */
export function satisfiesR(version: string, constraint: RConstraint | undefined): boolean {
  if (constraint === undefined) return true;
  const order = compareRVersions(version, constraint.version);
  switch (constraint.op) {
    case '>=':
      return order >= 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '<':
      return order < 0;
    case '==':
      return order === 0;
    case '!=':
      return order !== 0;
  }
}
