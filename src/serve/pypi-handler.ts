/**
 * PyPI simple API over one snapshot (PEP 503, 691, 658, 714): the project list, project pages
 * in the media type the client prefers, and the files the pages link, relative to the page.
 */
import { normalizeProjectName } from '../model.js';
import { blobKey } from '../repo/layout.js';
import { contentTypeOf } from './content-type.js';
import { negotiateMediaType } from './http-headers.js';
import {
  PYPI_HTML,
  PYPI_JSON,
  readStoredPage,
  renderProjectHtml,
  renderProjectJson,
  renderProjectListHtml,
  renderProjectListJson,
  storedRequiresPython,
  storedYanked,
  type ServedDistribution,
} from './project-page.js';
import { rootPath } from './route-table.js';
import { sendBlob, sendRendered, sendText } from './send.js';
import { cacheControl, findPackageFile, lastModified, type SnapshotRequest } from './snapshot-request.js';
import { findFile } from './snapshot-index.js';
import { StorageError } from '../errors.js';

// Server preference on equal quality: '*/*' and no Accept get classic HTML (PEP 691).
const OFFERED = ['text/html', PYPI_JSON, PYPI_HTML] as const;

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
    return redirect(sr, `${root}${normalized}/`);
  }
  if (slash === rest.length - 1) {
    if (!sr.index.files.has(`${project}/`)) {
      return sendText(sr.ex, 404, `no project ${project} in snapshot ${sr.snapshot.id} of source ${sr.match.route.source}\n`);
    }
    return sendPage(sr, 'page', project, (mediaType) => renderPage(sr, project, mediaType));
  }
  return serveFile(sr, rest);
}

async function serveFile(sr: SnapshotRequest, path: string): Promise<void> {
  const file = await findPackageFile(sr, path, ['']);
  if (!file || file.role === 'index') {
    return sendText(sr.ex, 404, `no file ${path} in snapshot ${sr.snapshot.id} of source ${sr.match.route.source}\n`);
  }
  await sendBlob(
    sr.ex,
    sr.storage,
    file,
    { contentType: contentTypeOf(path), cacheControl: cacheControl(sr, file.role), lastModified: lastModified(sr) },
    { compressible: false },
  );
}

async function sendPage(
  sr: SnapshotRequest,
  kind: 'list' | 'page',
  project: string,
  render: (mediaType: string) => Promise<string>,
): Promise<void> {
  const mediaType = negotiateMediaType(sr.ex.req.headers.accept, OFFERED);
  if (!mediaType) {
    return sendText(sr.ex, 406, `not acceptable: this index serves ${OFFERED.join(', ')}\n`, { Vary: 'Accept' });
  }
  const key = `${sr.index.document}:${kind}:${project}:${mediaType}`;
  const body = await sr.pages.get(key, mediaType, () => render(mediaType));
  const contentType = mediaType === PYPI_JSON ? mediaType : `${mediaType}; charset=utf-8`;
  sendRendered(sr.ex, body, {
    contentType,
    cacheControl: cacheControl(sr, 'page'),
    lastModified: lastModified(sr),
    vary: ['Accept'],
  });
}

async function renderList(sr: SnapshotRequest, mediaType: string): Promise<string> {
  return mediaType === PYPI_JSON ? renderProjectListJson(sr.index.projects) : renderProjectListHtml(sr.index.projects);
}

async function renderPage(sr: SnapshotRequest, project: string, mediaType: string): Promise<string> {
  const pageFile = findFile(sr.index, `${project}/`, '')!;
  const stored = await sr.storage.readBuffer(blobKey(pageFile.sha256));
  if (!stored) {
    throw new StorageError(`blob ${blobKey(pageFile.sha256)} (project page ${project}/) is missing from ${sr.storage.location}`, {
      hint: 'the repository is damaged: run `airlock check --repo` and re-import the bundle that carried it',
    });
  }
  const page = readStoredPage(stored);
  const files: ServedDistribution[] = [];
  for (const [filename, storedFile] of page.files) {
    // Only files this snapshot holds are linked: a link to a file we cannot serve would make
    // pip fail instead of choosing another candidate.
    const file = findFile(sr.index, `${project}/${filename}`, '');
    if (!file) continue;
    const metadata = findFile(sr.index, `${project}/${filename}.metadata`, '');
    files.push({
      filename,
      sha256: file.sha256,
      size: file.size,
      requiresPython: storedRequiresPython(storedFile),
      yanked: storedYanked(storedFile),
      metadataSha256: metadata?.sha256,
    });
  }
  const served = { name: page.name ?? project, files, versions: page.versions };
  return mediaType === PYPI_JSON ? renderProjectJson(served) : renderProjectHtml(served);
}

function redirect(sr: SnapshotRequest, location: string): void {
  sendText(sr.ex, 301, `moved to ${location}\n`, { Location: location, 'Cache-Control': 'public, max-age=3600' });
}
