/**
 * A repository with a history for the prune tests: cran on three dates and pypi on one, the
 * cran snapshots sharing most files (as nightly snapshots do) and each adding one of its own.
 */
import type { SnapshotDescriptor } from '../../src/model.js';
import type { Storage } from '../../src/repo/storage.js';
import { buildRepository, type BuilderFile, type BuiltSnapshot } from '../helpers/repo-builder.js';

export const DATES = ['2026-11-01', '2026-11-02', '2026-11-03'] as const;

export function cranDescriptor(snapshot: string): SnapshotDescriptor {
  return {
    source: 'cran',
    snapshot,
    type: 'cran',
    requested: snapshot,
    servedTemplate: 'cran/{snapshot}',
    variants: [''],
  };
}

export function pypiDescriptor(snapshot: string): SnapshotDescriptor {
  return {
    source: 'pypi',
    snapshot,
    type: 'pypi',
    requested: snapshot,
    servedTemplate: 'pypi/{snapshot}/simple',
    variants: [''],
  };
}

/** Files of cran on a date: a shared package, one of the date's own, and the index. */
export function cranFiles(date: string): BuilderFile[] {
  return [
    {
      path: 'src/contrib/PACKAGES',
      role: 'index',
      bytes: `Package: shared\nVersion: 1.0\n\nPackage: own\nVersion: ${date}\n`,
    },
    {
      path: 'src/contrib/shared_1.0.tar.gz',
      role: 'package',
      bytes: 'shared package bytes '.repeat(50),
    },
    {
      path: `src/contrib/own_${date}.tar.gz`,
      role: 'package',
      bytes: `only on ${date} `.repeat(100),
    },
  ];
}

export async function buildHistory(storage: Storage): Promise<Map<string, BuiltSnapshot>> {
  const built = new Map<string, BuiltSnapshot>();
  for (const date of DATES) {
    const snapshots = [{ descriptor: cranDescriptor(date), files: cranFiles(date) }];
    if (date === DATES[0]) {
      snapshots.push({
        descriptor: pypiDescriptor(date),
        files: [
          { path: 'alpha/', role: 'index', bytes: '<a href="alpha-1.0.whl">alpha</a>' },
          { path: 'alpha/alpha-1.0.whl', role: 'package', bytes: 'wheel '.repeat(80) },
        ],
      });
    }
    for (const b of await buildRepository(storage, snapshots, { bundleId: `bundle-${date}` })) {
      built.set(`${b.source}/${b.snapshot}`, b);
    }
  }
  return built;
}
