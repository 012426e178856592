/**
 * PEP 508 dependency specifiers ('name[extra] (>=1.0) ; python_version < "3.12"', or
 * 'name @ https://...'), as written in requirements files and in `Requires-Dist`.
 * Markers are in pep508-markers.ts, re-exported here.
 */
import { normalizeProjectName } from '../model.js';
import { InvalidSpecifierError, parseSpecifierSet, type SpecifierSet } from './pep440.js';
import {
  InvalidMarkerError,
  parseMarker,
  type Marker,
  type MarkerEnvironment,
} from './pep508-markers.js';
import type { PythonPlatform } from './wheel-tags.js';

export * from './pep508-markers.js';

export interface Requirement {
  name: string;
  /** PEP 503 normalized project name. */
  normalizedName: string;
  /** Normalized extra names, in the order written. */
  extras: string[];
  specifier: SpecifierSet;
  url?: string;
  marker?: Marker;
  /** The marker as written, for messages. */
  markerText?: string;
}

/** A requirement that does not follow PEP 508; callers wrap it with the file and line. */
export class InvalidRequirementError extends Error {
  override name = 'InvalidRequirementError';
}

const NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*/;
const EXTRA_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export function parseRequirement(text: string): Requirement {
  const fail = (why: string): never => {
    throw new InvalidRequirementError(`invalid requirement '${text.trim()}': ${why}`);
  };
  const nameMatch = NAME.exec(text);
  if (!nameMatch) return fail('it must start with a project name');
  const name = nameMatch[1]!;
  let rest = text.slice(nameMatch[0].length);

  let extras: string[] = [];
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail("missing ']' after the extras");
    extras = parseExtras(rest.slice(1, close), fail);
    rest = rest.slice(close + 1).trimStart();
  }

  let url: string | undefined;
  let specText = '';
  if (rest.startsWith('@')) {
    // The URL runs to whitespace: a ';' inside a URL is part of it (PEP 508).
    const match = /^@\s*(\S+)(?:\s+|$)/.exec(rest);
    if (!match) return fail("expected a URL after '@'");
    url = match[1]!;
    rest = rest.slice(match[0].length);
    if (rest !== '' && !rest.startsWith(';')) fail(`unexpected '${rest.trim()}' after the URL`);
  } else {
    const semicolon = rest.indexOf(';');
    specText = (semicolon < 0 ? rest : rest.slice(0, semicolon)).trim();
    rest = semicolon < 0 ? '' : rest.slice(semicolon);
    if (specText.startsWith('(')) {
      if (!specText.endsWith(')')) fail("missing ')' after the version specifier");
      specText = specText.slice(1, -1);
    }
  }

  const requirement: Requirement = {
    name,
    normalizedName: normalizeProjectName(name),
    extras,
    specifier: wrap(() => parseSpecifierSet(specText), fail),
  };
  if (url !== undefined) requirement.url = url;
  if (rest.startsWith(';')) {
    const markerText = rest.slice(1).trim();
    if (markerText === '') fail("empty marker after ';'");
    requirement.marker = wrap(() => parseMarker(markerText), fail);
    requirement.markerText = markerText;
  }
  return requirement;
}

function parseExtras(text: string, fail: (why: string) => never): string[] {
  if (text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const extra = raw.trim();
    if (!EXTRA_NAME.test(extra)) fail(`invalid extra name '${extra}'`);
    return normalizeProjectName(extra);
  });
}

function wrap<T>(parse: () => T, fail: (why: string) => never): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof InvalidSpecifierError || err instanceof InvalidMarkerError)
      fail(err.message);
    throw err;
  }
}

/** The requirement written back in PEP 508 form (normalized extras, specifier, marker). */
export function formatRequirement(r: Requirement): string {
  let text = r.name;
  if (r.extras.length > 0) text += `[${r.extras.join(',')}]`;
  if (r.url !== undefined) text += ` @ ${r.url}`;
  else if (!r.specifier.isEmpty) text += r.specifier.toString();
  if (r.markerText !== undefined) text += `${r.url === undefined ? '' : ' '}; ${r.markerText}`;
  return text;
}

/**
 * The marker environment of CPython on Linux for a target. Only the interpreter version,
 * machine and libc are known from a target description; `python_full_version` is the given
 * patch release, or '.0' of the minor when only 'X.Y' was given, and the kernel release and
 * version are unknown (empty strings).
 */
export function markerEnvironmentFor(env: PythonPlatform): MarkerEnvironment {
  if (env.python === undefined) {
    throw new TypeError('markerEnvironmentFor needs an environment with a Python version');
  }
  const [major, minor, patch] = env.python.split('.');
  const full = `${major}.${minor}.${patch ?? '0'}`;
  return {
    python_version: `${major}.${minor}`,
    python_full_version: full,
    os_name: 'posix',
    sys_platform: 'linux',
    platform_machine: env.arch,
    platform_system: 'Linux',
    platform_release: '',
    platform_version: '',
    implementation_name: 'cpython',
    implementation_version: full,
    platform_python_implementation: 'CPython',
  };
}
