/**
 * The roots of a source's dependency closure, from every input its config names: `packages:`,
 * and the files `requirements:`, `renv-lock:`, `description:` and `connect-manifest:`. No
 * input at all means "carry everything" (a full mirror), so callers get undefined then.
 */
import { ConfigError } from '../errors.js';
import type {
  CranBinarySourceConfig,
  CranSourceConfig,
  PypiSourceConfig,
  SourceConfig,
} from '../config/types.js';
import {
  pythonRequirementsFromList,
  readConnectManifest,
  readDescription,
  readRenvLock,
  readRequirementsFile,
  rRequirementsFromList,
  type RRequirement,
} from '../select/inputs.js';
import type { Requirement } from '../upstream/pep508.js';
import { RequiredHashes } from './required-hashes.js';

export interface PythonRoots {
  requirements: Requirement[];
  /** From `-c` files. */
  constraints: Requirement[];
  /** What reading the inputs ignored ('reqs.txt:3: --index-url ignored ...'). */
  notes: string[];
  /** The requirements files' --hash values, when any line has some. */
  hashes?: RequiredHashes;
}

export interface RRoots {
  requirements: RRequirement[];
  notes: string[];
}

function hasInputs(source: SourceConfig): boolean {
  return (
    source.packages !== undefined ||
    source.requirements !== undefined ||
    source.renvLock !== undefined ||
    source.description !== undefined ||
    source.connectManifest !== undefined
  );
}

function refuse(source: SourceConfig, key: string, useFor: string): never {
  throw new ConfigError(`sources "${source.name}": ${key} is not read by a ${source.type} source`, {
    hint: `${key} lists ${useFor}; move it to a source of that kind`,
  });
}

export async function rRoots(
  source: CranSourceConfig | CranBinarySourceConfig,
  configFile: string,
): Promise<RRoots | undefined> {
  if (!hasInputs(source)) return undefined;
  if (source.requirements !== undefined) refuse(source, 'requirements', 'Python requirements');
  const roots: RRoots = { requirements: [], notes: [] };
  if (source.packages !== undefined) {
    roots.requirements.push(
      ...rRequirementsFromList(source.packages, `${configFile}: sources "${source.name}" packages`),
    );
  }
  if (source.renvLock !== undefined) {
    const lock = await readRenvLock(source.renvLock);
    roots.requirements.push(...lock.packages);
  }
  if (source.description !== undefined) {
    const description = await readDescription(source.description, { suggests: source.suggests });
    roots.requirements.push(...description.requirements);
  }
  if (source.connectManifest !== undefined) {
    const manifest = await readConnectManifest(source.connectManifest);
    roots.requirements.push(...manifest.rPackages);
  }
  return roots;
}

export async function pythonRoots(
  source: PypiSourceConfig,
  configFile: string,
): Promise<PythonRoots | undefined> {
  if (!hasInputs(source)) return undefined;
  if (source.renvLock !== undefined) refuse(source, 'renv-lock', 'R packages');
  if (source.description !== undefined) refuse(source, 'description', 'R packages');
  const roots: PythonRoots = { requirements: [], constraints: [], notes: [] };
  if (source.packages !== undefined) {
    roots.requirements.push(
      ...pythonRequirementsFromList(
        source.packages,
        `${configFile}: sources "${source.name}" packages`,
      ),
    );
  }
  const files = [];
  if (source.requirements !== undefined)
    files.push(await readRequirementsFile(source.requirements));
  if (source.connectManifest !== undefined) {
    const manifest = await readConnectManifest(source.connectManifest);
    if (manifest.python) files.push(manifest.python);
    else roots.notes.push(`${source.connectManifest}: names no Python requirements file`);
  }
  for (const file of files) {
    roots.requirements.push(...file.requirements.map((line) => line.requirement));
    roots.constraints.push(...file.constraints.map((line) => line.requirement));
    roots.notes.push(...file.notes);
  }
  const hashes = RequiredHashes.from(
    files.flatMap((file) => [...file.requirements, ...file.constraints]),
  );
  if (hashes) roots.hashes = hashes;
  return roots;
}
