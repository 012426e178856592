/**
 * PyPI simple API over one snapshot (PEP 503, 691, 658, 714): the project list, project pages
 * in the media type the client prefers, and the files the pages link, relative to the page.
 */
import { StorageError } from '../errors.js';
import { normalizeProjectName } from '../model.js';
import { blobKey } from '../repo/layout.js';
import {
  chooseSimpleMediaType,
  parseProjectPage,
  PYPI_JSON,
  renderProjectPageHtml,
  renderProjectPageJson,
  type PypiFile,
} from '../upstream/pypi-simple.js';
import { contentTypeOf } from './content-type.js';
import { renderProjectListHtml, renderProjectListJson } from './project-list.js';
import { rootPath } from './route-table.js';
import { sendBlob, sendRendered, sendText } from './send.js';
import {
  cacheControl,
  findPackageFile,
  lastModified,
  type SnapshotRequest,
} from './snapshot-request.js';

// Stored pages hold bare file names; parsing resolves them against some page URL, and the
// served page links them relative again, so this origin never reaches a client.
const STORED_PAGE_ORIGIN = 'http://stored-page.airlock.invalid';

export async function servePypi(sr: SnapshotRequest): Promise<void> {
  const root = rootPath(sr.match.route, sr.match.snapshot);
  if (sr.match.bareRoot) return redirect(sr, root);
  const { rest } = sr.match;
  if (rest === '') return sendPage(sr, 'list', '', (mediaType) => renderList(sr, mediaType));
  const slash = rest.indexOf('/');
  const project = slash === -1 ? rest : rest.slice(0, slash);
  const normalized = normalizeProjectName(project);
  if (slash === -1 || (slash === rest.length - 1 && project !== normalized)) {
    // PEP 503: a client may ask for any spelling; the normalized URL is the page.
    return redirect(sr, `${root}${encodeURIComponent(normalized)}/`);
  }
  if (slash === rest.length - 1) {
    return sendPage(sr, 'page', project, (mediaType) => renderPage(sr, project, mediaType));
  }
  return serveFile(sr, rest);
}

async function serveFile(sr: SnapshotRequest, path: string): Promise<void> {
  const file = await findPackageFile(sr, path, ['']);
  if (!file || file.role === 'index') {
    const where = `snapshot ${sr.snapshot.id} of source ${sr.match.route.source}`;
    return sendText(sr.ex, 404, `no file ${path} in ${where}\n`);
  }
  await sendBlob(
    sr.ex,
    sr.storage,
    file,
    {
      contentType: contentTypeOf(path),
      cacheControl: cacheControl(sr, file.role),
      lastModified: lastModified(sr),
    },
    { compressible: false },
  );
}

async function sendPage(
  sr: SnapshotRequest,
  kind: 'list' | 'page',
  project: string,
  render: (mediaType: string) => Promise<string>,
): Promise<void> {
  const mediaType = chooseSimpleMediaType(sr.ex.req.headers.accept);
  const key = `${sr.index.document}:${kind}:${project}:${mediaType}`;
  // A page in the cache proves its project exists: the hot path asks the index nothing.
  let body = mediaType ? sr.pages.peek(key) : undefined;
  if (!body) {
    if (kind === 'page' && !sr.index.has(`${project}/`)) {
      const where = `snapshot ${sr.snapshot.id} of source ${sr.match.route.source}`;
      return sendText(sr.ex, 404, `no project ${project} in ${where}\n`);
    }
    if (!mediaType) {
      const offered = `${PYPI_JSON}, application/vnd.pypi.simple.v1+html, text/html`;
      return sendText(sr.ex, 406, `not acceptable: this index serves ${offered}\n`, {
        Vary: 'Accept',
      });
    }
    body = sr.pages.get(key, mediaType, () => render(mediaType));
  }
  sendRendered(sr.ex, await body, {
    contentType: mediaType === PYPI_JSON ? mediaType : `${mediaType}; charset=utf-8`,
    cacheControl: cacheControl(sr, 'page'),
    lastModified: lastModified(sr),
    vary: ['Accept'],
  });
}

async function renderList(sr: SnapshotRequest, mediaType: string): Promise<string> {
  const projects = sr.index.projects();
  return mediaType === PYPI_JSON
    ? renderProjectListJson(projects)
    : renderProjectListHtml(projects);
}

async function renderPage(
  sr: SnapshotRequest,
  project: string,
  mediaType: string,
): Promise<string> {
  const key = blobKey(sr.index.find(`${project}/`, '')!.sha256);
  const stored = await sr.storage.readBuffer(key);
  if (!stored) {
    throw new StorageError(
      `blob ${key} (project page ${project}/) is missing from ${sr.storage.location}`,
      {
        hint: 'the repository is damaged: run `airlock check --repo` and the `airlock import MANIFEST --repair` it names',
      },
    );
  }
  const page = parseProjectPage(
    stored.toString('utf8'),
    PYPI_JSON,
    `${STORED_PAGE_ORIGIN}/${project}/`,
  );
  const files: PypiFile[] = [];
  for (const file of page.files) {
    // Only files this snapshot holds are linked (a dead link makes pip fail rather than pick
    // another candidate), with the hash and size of the bytes this server sends.
    const entry = sr.index.find(`${project}/${file.filename}`, '');
    if (!entry) continue;
    const metadata = sr.index.find(`${project}/${file.filename}.metadata`, '');
    files.push({
      ...file,
      url: encodeURIComponent(file.filename),
      sha256: entry.sha256,
      hashes: { sha256: entry.sha256 },
      size: entry.size,
      coreMetadata: metadata ? { sha256: metadata.sha256 } : false,
    });
  }
  const renderable = { name: page.name || project, files };
  return mediaType === PYPI_JSON
    ? renderProjectPageJson(renderable)
    : renderProjectPageHtml(renderable);
}

function redirect(sr: SnapshotRequest, location: string): void {
  sendText(sr.ex, 301, `moved to ${location}\n`, {
    Location: location,
    'Cache-Control': 'public, max-age=3600',
  });
}
