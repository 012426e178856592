/**
 * `--hash` values of a requirements file, applied as pip applies them: when a requirement
 * lists hashes, a file of that project is acceptable only if one of its hashes (as the
 * upstream index states them, which the download then checks against the bytes) is among
 * them. Files that are not are left out with a note; when none of the files chosen for the
 * project is acceptable, the upstream no longer has what the requirements were locked
 * against, and that is an IntegrityError naming each file with both hashes.
 */
import { IntegrityError } from '../errors.js';
import { normalizeProjectName } from '../model.js';
import type { RequirementLine } from '../select/requirements-txt.js';
import type { PypiFile } from '../upstream/pypi-file.js';

interface Pinned {
  /** 'sha256:abc…', lowercased. */
  hashes: Set<string>;
  /** Where the hashes were written ('reqs.txt:3'), one per line that gave some. */
  where: string[];
}

export class RequiredHashes {
  private constructor(private readonly byProject: Map<string, Pinned>) {}

  /** From the lines of requirements (and constraints) files; undefined when none has --hash. */
  static from(lines: readonly RequirementLine[]): RequiredHashes | undefined {
    const byProject = new Map<string, Pinned>();
    for (const line of lines) {
      if (line.hashes.length === 0) continue;
      const project = normalizeProjectName(line.requirement.name);
      let pinned = byProject.get(project);
      if (!pinned) byProject.set(project, (pinned = { hashes: new Set(), where: [] }));
      for (const hash of line.hashes) pinned.hashes.add(hash);
      pinned.where.push(`${line.file}:${line.line}`);
    }
    return byProject.size === 0 ? undefined : new RequiredHashes(byProject);
  }

  /**
   * The chosen files of `project` that its hashes accept, and a note per file left out.
   * Throws an IntegrityError when files were chosen and none is acceptable.
   */
  filter<T extends { filename: string }>(
    project: string,
    choices: T[],
    files: readonly PypiFile[],
  ): { kept: T[]; notes: string[] } {
    const pinned = this.byProject.get(normalizeProjectName(project));
    if (!pinned || choices.length === 0) return { kept: choices, notes: [] };
    const byName = new Map(files.map((f) => [f.filename, f]));
    const kept: T[] = [];
    const refused: { filename: string; hashes: string[] }[] = [];
    for (const choice of choices) {
      const hashes = fileHashes(byName.get(choice.filename));
      if (hashes.some((h) => pinned.hashes.has(h))) kept.push(choice);
      else refused.push({ filename: choice.filename, hashes });
    }
    const where = pinned.where.join(', ');
    const listed = [...pinned.hashes].join(', ');
    if (kept.length === 0) {
      const files = refused
        .map((r) => `${r.filename} has ${r.hashes.join(', ') || 'no hash on the index page'}`)
        .join('; ');
      throw new IntegrityError(
        `${project}: no file matches the --hash values of ${where} (${listed}): ${files}`,
        {
          code: 'EHASH',
          hint:
            'the upstream files differ from those the requirements were locked against: ' +
            'check the upstream for a replaced file; if the change is expected, regenerate the ' +
            'hashes (pip-compile --generate-hashes) and run again',
        },
      );
    }
    const notes = refused.map(
      (r) =>
        `${r.filename}: left out, its ${r.hashes.join(', ') || 'missing hash'} is not among the --hash values of ${where} (pip would refuse it)`,
    );
    return { kept, notes };
  }
}

/** A file's hashes as requirements files write them: 'sha256:abc…'. */
function fileHashes(file: PypiFile | undefined): string[] {
  if (!file) return [];
  const all = { ...file.hashes, ...(file.sha256 ? { sha256: file.sha256 } : {}) };
  return Object.entries(all).map(([algorithm, hex]) => `${algorithm}:${hex.toLowerCase()}`);
}
