/**
 * Project pages while a source is planned, against the fixture upstream: each page is fetched
 * once, read back from its scratch file when the parsed copy was evicted, a missing project
 * is undefined (not an error), and close() leaves nothing in the workspace's tmp/.
 */
import { readdirSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { ProjectPages } from '../../src/download/project-pages.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';

let t: TestUpstream;
let dispatcher: Dispatcher;
let baseUrl: string;
let projects: string[];
beforeAll(async () => {
  // More projects than the parsed pages held at once (64), so some are evicted.
  t = await withUpstream({
    scale: { smallFiles: 160, smallMin: 100, smallMax: 200, smallProjects: 80 },
  });
  dispatcher = createDispatcher({ connections: 4 });
  const pypi = t.catalog.sources.pypi!;
  const snapshot = pypi.snapshots[t.catalog.latest]!;
  baseUrl = `${t.upstream.url}/${snapshot.root}/`;
  projects = [...new Set(snapshot.files.flatMap((f) => (f.package ? [f.package] : [])))];
}, 120_000);
afterAll(async () => {
  await dispatcher.close();
  await t.close();
});

function pagesFor(ws: Workspace): ProjectPages {
  return new ProjectPages(
    { config: { concurrency: 4 } as Config, dispatcher, workspace: ws, now: new Date() },
    baseUrl,
  );
}

const pageRequests = (name: string) =>
  t.upstream.requests.filter((r) => r.path.endsWith(`/simple/${name}/`)).length;

describe('ProjectPages', () => {
  it('fetches each page once, and reads evicted pages back from its scratch file', async () => {
    expect(projects.length).toBeGreaterThan(64);
    const ws = Workspace.open(t.tempDir('ws'), { create: true });
    const pages = pagesFor(ws);
    try {
      const before = new Map(projects.map((p) => [p, pageRequests(p)]));
      const first = await Promise.all(projects.map((p) => pages.load(p)));
      expect(first.every((page) => page !== undefined && page.files.length > 0)).toBe(true);
      // Every project again: the early ones were evicted from the parsed pages by now.
      const again = await Promise.all(projects.map((p) => pages.load(p)));
      expect(again.map((p) => p!.files.map((f) => f.filename))).toEqual(
        first.map((p) => p!.files.map((f) => f.filename)),
      );
      for (const p of projects) expect(pageRequests(p)).toBe(before.get(p)! + 1);
      expect(readdirSync(ws.blobs.tmpDir).filter((n) => n.startsWith('index-page-'))).toHaveLength(
        projects.length,
      );
    } finally {
      await pages.close();
      ws.close();
    }
    expect(readdirSync(ws.blobs.tmpDir).filter((n) => n.startsWith('index-page-'))).toEqual([]);
  });

  it('answers undefined for a project the index does not have, and asks once', async () => {
    const ws = Workspace.open(t.tempDir('ws'), { create: true });
    const pages = pagesFor(ws);
    try {
      const before = pageRequests('no-such-project');
      expect(await pages.load('No_Such.Project')).toBeUndefined();
      expect(await pages.load('no-such-project')).toBeUndefined();
      expect(pageRequests('no-such-project')).toBe(before + 1);
    } finally {
      await pages.close();
      ws.close();
    }
  });
});
