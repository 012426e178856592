/**
 * pip requirements files: one PEP 508 requirement per line, `-r` includes and `-c`
 * constraint files (relative to the including file), comments, `\` continuations,
 * `--hash` options and environment markers. Index options are ignored with a note (airlock
 * picks its upstream from the config); editable and local-path requirements cannot be
 * carried from an index and are refused.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, storageErrorFrom } from '../errors.js';
import { InvalidRequirementError, parseRequirement, type Requirement } from '../upstream/pep508.js';

export interface RequirementLine {
  requirement: Requirement;
  /** `--hash` values as written, lowercased ('sha256:ab12...'). */
  hashes: string[];
  file: string;
  line: number;
}

export interface RequirementsFile {
  requirements: RequirementLine[];
  /** From `-c` files: they bound versions of projects something else requires, never add one. */
  constraints: RequirementLine[];
  /** Options airlock ignored, with where they were ('reqs.txt:3: --index-url ignored ...'). */
  notes: string[];
}

// Options pip accepts in a requirements file that only steer where pip looks or how it
// builds; airlock's sources decide that.
const IGNORED_OPTIONS = new Set([
  '-i', '--index-url', '--extra-index-url', '--no-index', '-f', '--find-links', '--pre',
  '--trusted-host', '--prefer-binary', '--only-binary', '--no-binary', '--require-hashes',
  '--use-feature', '--config-settings', '--global-option', '--install-option',
]); // prettier-ignore

export async function readRequirementsFile(path: string): Promise<RequirementsFile> {
  const result: RequirementsFile = { requirements: [], constraints: [], notes: [] };
  await readInto(resolve(path), result, 'requirements', []);
  return result;
}

async function readInto(
  path: string,
  result: RequirementsFile,
  kind: 'requirements' | 'constraints',
  including: string[],
): Promise<void> {
  if (including.includes(path)) {
    result.notes.push(
      `${path}: already included (${[...including, path].join(' -> ')}), not read again`,
    );
    return;
  }
  const text = await readInput(path, including.at(-1));
  for (const { text: line, number } of logicalLines(text)) {
    const where = `${path}:${number}`;
    const [option, value] = splitOption(line);
    if (
      option === '-r' ||
      option === '--requirement' ||
      option === '-c' ||
      option === '--constraint'
    ) {
      if (!value) throw malformed(where, `${option} needs a file name`, 'write -r other.txt');
      const nested = option === '-c' || option === '--constraint' ? 'constraints' : kind;
      await readInto(resolve(dirname(path), value), result, nested, [...including, path]);
    } else if (option === '-e' || option === '--editable') {
      throw malformed(where, 'editable requirements cannot be carried', EDITABLE_HINT);
    } else if (option !== undefined) {
      if (!IGNORED_OPTIONS.has(option)) {
        throw malformed(where, `unknown option ${option}`, 'remove the option or the line');
      }
      result.notes.push(
        `${where}: ${option} ignored (airlock downloads from the configured source)`,
      );
    } else {
      result[kind].push(parseRequirementLine(line, path, number, result.notes));
    }
  }
}

const EDITABLE_HINT = 'name the project and version instead (e.g. mypkg==1.2), or remove the line';

function parseRequirementLine(
  line: string,
  file: string,
  number: number,
  notes: string[],
): RequirementLine {
  const where = `${file}:${number}`;
  // As pip does: the requirement runs to the first word that starts with '-'.
  const words = line.split(/\s+/);
  const firstOption = words.findIndex((w) => w.startsWith('-'));
  const spec = (firstOption < 0 ? words : words.slice(0, firstOption)).join(' ');
  const hashes: string[] = [];
  const options = firstOption < 0 ? [] : words.slice(firstOption);
  for (let i = 0; i < options.length; i++) {
    const [name, inline] = options[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? options[++i];
    if (name === '--hash') {
      if (!value || !/^[a-z0-9]+:[0-9a-fA-F]+$/.test(value)) {
        throw malformed(
          where,
          `--hash needs algorithm:hexdigest, got ${JSON.stringify(value ?? '')}`,
          'write --hash=sha256:<64 hex digits>',
        );
      }
      hashes.push(value.toLowerCase());
    } else if (IGNORED_OPTIONS.has(name)) {
      notes.push(`${where}: ${name} ignored`);
    } else {
      throw malformed(where, `unknown option ${name}`, 'remove the option');
    }
  }
  if (
    /^(\.|\/|~|file:)/.test(spec) ||
    /\.(whl|tar\.gz|zip)$/.test(spec) ||
    /^[a-z+]+:\/\//i.test(spec)
  ) {
    throw malformed(
      where,
      `'${spec}' is a local path or URL, which cannot be carried from an index`,
      EDITABLE_HINT,
    );
  }
  try {
    return { requirement: parseRequirement(spec), hashes, file, line: number };
  } catch (err) {
    if (!(err instanceof InvalidRequirementError)) throw err;
    throw malformed(where, err.message, 'write a PEP 508 requirement such as requests>=2.31,<3');
  }
}

/** `-r file`, `-rfile`, `--requirement=file`, `--requirement file` -> [option, value]. */
function splitOption(line: string): [string | undefined, string | undefined] {
  if (!line.startsWith('-')) return [undefined, undefined];
  const long = /^(--[a-z-]+)(?:[=\s]\s*(.*))?$/.exec(line);
  if (long) return [long[1], long[2]?.trim()];
  const short = /^(-[a-zA-Z])\s*(.*)$/.exec(line)!;
  return [short[1], short[2]?.trim() || undefined];
}

/** Joins `\` continuations and strips comments; each line keeps its first physical number. */
export function logicalLines(text: string): Array<{ text: string; number: number }> {
  const lines: Array<{ text: string; number: number }> = [];
  let pending: { text: string; number: number } | undefined;
  text.split(/\r?\n/).forEach((physical, i) => {
    const current = pending ?? { text: '', number: i + 1 };
    const continued = /(^|[^\\])\\$/.test(physical) && !/(^|\s)#/.test(physical);
    current.text += continued ? physical.slice(0, -1) : physical;
    pending = continued ? current : undefined;
    if (!continued) lines.push(current);
  });
  if (pending) lines.push(pending);
  return lines
    .map((l) => ({ text: l.text.replace(/(^|\s+)#.*$/, '').trim(), number: l.number }))
    .filter((l) => l.text !== '');
}

export function malformed(where: string, what: string, hint: string): ConfigError {
  return new ConfigError(`${where}: ${what}`, { hint });
}

/** Reads an input file the config names; a missing one is a config error naming it. */
export async function readInput(path: string, namedBy?: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`${path} does not exist${namedBy ? ` (named by ${namedBy})` : ''}`, {
        hint: 'check the path; relative paths are resolved against the file that names them',
      });
    }
    throw storageErrorFrom(err, 'read', path);
  }
}
