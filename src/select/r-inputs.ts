/**
 * R package lists an operator can hand over: an renv.lock (exact pins) and a package
 * DESCRIPTION (its Depends/Imports/LinkingTo). Both become R requirements for the closure.
 */
import { AirlockError } from '../errors.js';
import { parseDcf } from '../upstream/dcf.js';
import { parseDependencyField, type RConstraint } from '../upstream/r-dependency.js';
import {
  JsonSyntaxError,
  parseJsonWithLines,
  type JsonValue,
  type ParsedJson,
} from './json-lines.js';
import { malformed, readInput } from './requirements-txt.js';

export interface RRequirement {
  name: string;
  constraint?: RConstraint;
  /** Where the requirement came from, for messages ('renv.lock', 'packages'). */
  origin?: string;
}

export interface RenvLock {
  /** `R.Version`, when the lock records it. */
  rVersion?: string;
  /** One exact (==) pin per package. */
  packages: Array<RRequirement & { source?: string; repository?: string }>;
}

/** Parses JSON or throws a ConfigError with the file, line and column. */
export function parseJsonInput(text: string, path: string, hint: string): ParsedJson {
  try {
    return parseJsonWithLines(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw malformed(`${path}:${err.line}:${err.column}`, `not valid JSON: ${err.message}`, hint);
  }
}

export function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const RENV_HINT =
  'renv.lock is written by renv::snapshot(); regenerate it or fix the JSON at that line';

export async function readRenvLock(path: string): Promise<RenvLock> {
  return parseRenvLock(await readInput(path), path);
}

export function parseRenvLock(text: string, path: string): RenvLock {
  const json = parseJsonInput(text, path, RENV_HINT);
  const root = json.value;
  if (!isObject(root) || !isObject(root.Packages)) {
    const line = isObject(root) ? (json.lineOfKey(root, 'Packages') ?? 1) : 1;
    throw malformed(`${path}:${line}`, "expected an object with a 'Packages' object", RENV_HINT);
  }
  const lock: RenvLock = { packages: [] };
  const r = root.R;
  if (isObject(r) && typeof r.Version === 'string') lock.rVersion = r.Version;
  for (const [key, entry] of Object.entries(root.Packages)) {
    const line = json.lineOfKey(root.Packages, key) ?? 1;
    if (!isObject(entry))
      throw malformed(`${path}:${line}`, `Packages.${key} must be an object`, RENV_HINT);
    const name = entry.Package ?? key;
    const version = entry.Version;
    if (
      typeof name !== 'string' ||
      typeof version !== 'string' ||
      !/^\d+([.-]\d+)+$/.test(version)
    ) {
      const at = json.lineOfKey(entry, 'Version') ?? line;
      throw malformed(
        `${path}:${at}`,
        `Packages.${key} has no valid Version (${JSON.stringify(version)})`,
        RENV_HINT,
      );
    }
    const pin: RenvLock['packages'][number] = {
      name,
      constraint: { op: '==', version },
      origin: path,
    };
    if (typeof entry.Source === 'string') pin.source = entry.Source;
    if (typeof entry.Repository === 'string') pin.repository = entry.Repository;
    lock.packages.push(pin);
  }
  return lock;
}

export interface DescriptionOptions {
  /** Also take Suggests (config: suggests: true). */
  suggests?: boolean;
}

export interface DescriptionRequirements {
  package?: string;
  /** `R (>= 4.1)` from Depends. */
  rConstraint?: RConstraint;
  requirements: RRequirement[];
}

const DESCRIPTION_HINT = 'a DESCRIPTION has "Field: value" lines, continuation lines indented';

export async function readDescription(
  path: string,
  options: DescriptionOptions = {},
): Promise<DescriptionRequirements> {
  return parseDescription(await readInput(path), path, options);
}

export function parseDescription(
  text: string,
  path: string,
  options: DescriptionOptions = {},
): DescriptionRequirements {
  const stanza = withLine(path, 1, () => parseDcf(text, path))[0];
  if (!stanza) throw malformed(`${path}:1`, 'the DESCRIPTION is empty', DESCRIPTION_HINT);
  const result: DescriptionRequirements = { requirements: [] };
  const pkg = stanza.fields.get('Package');
  if (pkg !== undefined) result.package = pkg;
  const fields = ['Depends', 'Imports', 'LinkingTo', ...(options.suggests ? ['Suggests'] : [])];
  for (const field of fields) {
    const value = stanza.fields.get(field);
    if (value === undefined) continue;
    const line = lineOfField(text, field);
    for (const dep of withLine(path, line, () =>
      parseDependencyField(value, `${path}: ${field}`),
    )) {
      if (dep.name === 'R') {
        if (dep.constraint) result.rConstraint = dep.constraint;
        continue;
      }
      const requirement: RRequirement = { name: dep.name, origin: path };
      if (dep.constraint) requirement.constraint = dep.constraint;
      result.requirements.push(requirement);
    }
  }
  return result;
}

// The DCF and dependency parsers speak of upstream indexes (IntegrityError): a DESCRIPTION the
// operator gave is a config input, so its faults are ConfigErrors naming the line.
function withLine<T>(path: string, line: number, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof AirlockError)) throw err;
    const stated = /line (\d+)/.exec(err.message)?.[1];
    const why = err.message.replace(`${path}: `, '');
    throw malformed(`${path}:${stated ?? line}`, why, DESCRIPTION_HINT);
  }
}

function lineOfField(text: string, field: string): number {
  const lines = text.split(/\r?\n/);
  const index = lines.findIndex((l) => l.startsWith(`${field}:`));
  return index < 0 ? 1 : index + 1;
}
