/**
 * Plans a PyPI source: read the simple index (PEP 691 JSON, else PEP 503 HTML), pick files
 * (everything, or the closure per environment: select-pypi.ts), and store a normalized
 * project page per project that lists exactly the files carried.
 */
import type { PypiSourceConfig } from '../config/types.js';
import type { SnapshotEntry } from '../model.js';
import { fetchBytes } from '../fetch/fetch-bytes.js';
import { header } from '../fetch/request.js';
import {
  parseProjectList,
  renderProjectPageJson,
  SIMPLE_ACCEPT,
  type PypiFile,
  type PypiProjectPage,
} from '../upstream/pypi-simple.js';
import type { PlanFiles } from './plan-files.js';
import { planFetchOptions } from './plan-fetch-options.js';
import type { MetadataFetches } from './planning-fetches.js';
import type { PlanContext, PlannedFile, PlanProblem } from './plan-types.js';
import { ProjectPages, type ProjectLoader } from './project-pages.js';
import { storeIndexEntry } from './store-index.js';
import { selectPypiFiles, type PypiChoice } from './select-pypi.js';
import type { PythonRoots } from './selection-roots.js';

export interface PypiPlan {
  indexes: SnapshotEntry[];
  problems: PlanProblem[];
  notes: string[];
  metadataFetches: MetadataFetches;
}

export async function listProjects(ctx: PlanContext, baseUrl: string): Promise<string[]> {
  const res = await fetchBytes(baseUrl, planFetchOptions(ctx, { accept: SIMPLE_ACCEPT }));
  return parseProjectList(
    res.body.toString('utf8'),
    header(res.headers, 'content-type') ?? '',
    res.url,
  );
}

export async function planPypi(
  ctx: PlanContext,
  source: PypiSourceConfig,
  baseUrl: string,
  label: string,
  roots: PythonRoots | undefined,
  files: PlanFiles,
): Promise<PypiPlan> {
  const pages = new ProjectPages(ctx, baseUrl);
  try {
    return await planProjects(ctx, source, baseUrl, label, roots, pages.load, files);
  } finally {
    await pages.close();
  }
}

async function planProjects(
  ctx: PlanContext,
  source: PypiSourceConfig,
  baseUrl: string,
  label: string,
  roots: PythonRoots | undefined,
  load: ProjectLoader,
  files: PlanFiles,
): Promise<PypiPlan> {
  const selection = await selectPypiFiles(ctx, source, baseUrl, load, label, roots);
  const fetchedAt = ctx.now.toISOString();
  const lists = createListInterner();
  const indexes: SnapshotEntry[] = [];
  for await (const [project, chosen] of selection.projects) {
    const page = await load(project);
    if (page === undefined) continue;
    // With --hash values for the project, only files they accept are carried (pip's rule).
    const filtered = roots?.hashes?.filter(project, chosen, page.files);
    if (filtered) selection.notes.push(...filtered.notes);
    const choices = filtered?.kept ?? chosen;
    indexes.push(
      await storeIndexEntry(
        ctx.workspace,
        Buffer.from(renderNormalizedPage(page, choices, source.metadata), 'utf8'),
        { path: `${project}/`, variant: '' },
        { url: `${baseUrl}${project}/`, fetchedAt, generated: true },
      ),
    );
    const byName = new Map(page.files.map((f) => [f.filename, f]));
    for (const choice of choices) {
      const file = byName.get(choice.filename);
      if (file === undefined) continue; // chosen from this very page: cannot happen
      const shared = {
        ...choice,
        reasons: lists(choice.reasons),
        environments: lists(choice.environments),
      };
      for (const planned of plannedPypiFiles(ctx, project, file, shared, source.metadata))
        files.push(planned);
    }
  }
  return {
    indexes,
    problems: selection.problems,
    notes: selection.notes,
    metadataFetches: selection.metadataFetches,
  };
}

/**
 * One array per distinct list: the files of a 200,000-file plan mostly share a handful of
 * reason chains and environment lists, and the plan must not hold an array per file.
 * The shared arrays are never mutated after planning.
 */
function createListInterner(): (list: string[]) => string[] {
  const known = new Map<string, string[]>();
  return (list) => {
    const key = list.join('\n');
    const found = known.get(key);
    if (found !== undefined) return found;
    known.set(key, list);
    return list;
  };
}

/** The project page as served later: PEP 691 JSON whose file URLs are bare file names. */
function renderNormalizedPage(
  page: PypiProjectPage,
  choices: PypiChoice[],
  withMetadata: boolean,
): string {
  const carried = new Set(choices.map((c) => c.filename));
  const files = page.files
    .filter((f) => carried.has(f.filename))
    .map((f) => ({
      ...f,
      url: f.filename,
      coreMetadata: withMetadata ? f.coreMetadata : (false as const),
    }));
  return renderProjectPageJson({ ...page, files });
}

function plannedPypiFiles(
  ctx: PlanContext,
  project: string,
  f: PypiFile,
  choice: PypiChoice,
  withMetadata: boolean,
): PlannedFile[] {
  const out: PlannedFile[] = [];
  const main: PlannedFile = {
    url: f.url,
    path: `${project}/${f.filename}`,
    variant: '',
    role: 'package',
    package: project,
    reasons: choice.reasons,
  };
  if (choice.environments.length > 0) main.environments = choice.environments;
  if (choice.version !== undefined) main.version = choice.version;
  if (f.size !== undefined) main.size = f.size;
  if (f.sha256 !== undefined) {
    main.upstreamHash = { algorithm: 'sha256', value: f.sha256 };
    if (ctx.workspace.hasBlob(f.sha256)) main.present = f.sha256;
  }
  out.push(main);
  if (withMetadata && f.coreMetadata !== false) {
    const meta: PlannedFile = {
      url: `${f.url}.metadata`,
      path: `${project}/${f.filename}.metadata`,
      variant: '',
      role: 'metadata',
      package: project,
      reasons: choice.reasons,
    };
    if (choice.environments.length > 0) meta.environments = choice.environments;
    if (choice.version !== undefined) meta.version = choice.version;
    const sha = f.coreMetadata.sha256;
    if (sha !== undefined) {
      meta.upstreamHash = { algorithm: 'sha256', value: sha };
      // The index gives no size for metadata files; one read while planning has a known size.
      const size = ctx.workspace.blobs.sizeSync(sha);
      if (size !== undefined) [meta.present, meta.size] = [sha, size];
    }
    out.push(meta);
  }
  return out;
}
