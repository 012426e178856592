/**
 * Turns the fixture upstream (src/fixture) into a repository the way an import would leave
 * it: CRAN trees byte for byte, PyPI projects as '{project}/' PEP 691 pages with bare file
 * names beside their files. Lets the serve tests run real pip and R against real packages.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FixtureCatalog, FixtureFile, FixtureSource } from '../../src/fixture/catalog.js';
import type { Variant } from '../../src/model.js';
import type { Storage } from '../../src/repo/storage.js';
import {
  buildRepository,
  type BuilderFile,
  type BuilderSnapshot,
} from '../helpers/repo-builder.js';

export async function importFixture(
  storage: Storage,
  catalog: FixtureCatalog,
  fixtureDir: string,
  snapshotIds: readonly string[] = catalog.snapshots,
): Promise<void> {
  const snapshots: BuilderSnapshot[] = [];
  for (const source of Object.values(catalog.sources)) {
    for (const id of snapshotIds) {
      const files =
        source.type === 'pypi'
          ? await pypiFiles(source, id, fixtureDir)
          : await cranFiles(source, id, fixtureDir);
      const variants: Variant[] =
        source.type === 'cran-binary'
          ? [...(source.rMinors ?? []).map((m) => `R-${m}` as Variant), '']
          : [''];
      snapshots.push({
        descriptor: {
          source: source.name,
          snapshot: id,
          type: source.type,
          requested: id,
          servedTemplate: source.urlTemplate,
          ...(source.distribution ? { distribution: source.distribution } : {}),
          variants,
        },
        files,
      });
    }
  }
  await buildRepository(storage, snapshots);
}

async function cranFiles(source: FixtureSource, id: string, dir: string): Promise<BuilderFile[]> {
  const snapshot = source.snapshots[id]!;
  return Promise.all(
    snapshot.files.map(async (file) => ({
      path: file.urlPath.slice(snapshot.root.length + 1),
      variant: file.variant,
      role: file.role,
      bytes: await readFile(join(dir, file.diskPath)),
      ...(file.package ? { package: file.package, version: file.version } : {}),
    })),
  );
}

async function pypiFiles(source: FixtureSource, id: string, dir: string): Promise<BuilderFile[]> {
  const snapshot = source.snapshots[id]!;
  const byProject = new Map<string, FixtureFile[]>();
  for (const file of snapshot.files) {
    if (file.kind !== 'wheel' && file.kind !== 'sdist') continue;
    const list = byProject.get(file.package!) ?? [];
    list.push(file);
    byProject.set(file.package!, list);
  }
  const metadataOf = new Map(
    snapshot.files
      .filter((f) => f.kind === 'core-metadata')
      .map((f) => [f.filename!.replace(/\.metadata$/, ''), f]),
  );
  const out: BuilderFile[] = [];
  for (const [project, files] of byProject) {
    const page = { meta: { 'api-version': '1.1' }, name: project, files: [] as unknown[] };
    for (const file of files) {
      const metadata = metadataOf.get(file.filename!);
      page.files.push({
        filename: file.filename,
        url: file.filename,
        hashes: { sha256: file.sha256 },
        'requires-python': file.requiresPython ?? null,
        yanked: file.yanked || false,
        'core-metadata': metadata ? { sha256: metadata.sha256 } : false,
      });
      out.push({
        path: `${project}/${file.filename}`,
        role: 'package',
        package: project,
        version: file.version,
        bytes: await readFile(join(dir, file.diskPath)),
      });
      if (metadata) {
        out.push({
          path: `${project}/${metadata.filename}`,
          role: 'metadata',
          package: project,
          version: file.version,
          bytes: await readFile(join(dir, metadata.diskPath)),
        });
      }
    }
    out.push({ path: `${project}/`, role: 'index', bytes: JSON.stringify(page) });
  }
  return out;
}

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
