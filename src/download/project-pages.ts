/**
 * The upstream's PyPI project pages while a source is planned: each fetched once, its bytes
 * kept in a scratch file of the workspace's tmp/, and only the recently used ones held parsed.
 * A 2,000-project, 200,000-file selection asks for the same pages again and again (closure,
 * whole releases, normalized pages), and holding them all parsed was one object graph per
 * file for the whole plan. Re-parsing a page from its file costs a fraction of a millisecond.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { storageErrorFrom } from '../errors.js';
import { fetchBytes } from '../fetch/fetch-bytes.js';
import { header } from '../fetch/request.js';
import { LruCache } from '../lru-cache.js';
import { normalizeProjectName } from '../model.js';
import { parseProjectPage, SIMPLE_ACCEPT, type PypiProjectPage } from '../upstream/pypi-simple.js';
import type { PlanContext } from './plan-types.js';
import { planFetchOptions } from './plan-fetch-options.js';

/** Parsed pages held at once. */
const PARSED_PAGES = 64;

export type ProjectLoader = (name: string) => Promise<PypiProjectPage | undefined>;

interface StoredPage {
  file: string;
  contentType: string;
  url: string;
}

export class ProjectPages {
  private readonly parsed = new LruCache<string, Promise<PypiProjectPage | undefined>>(
    PARSED_PAGES,
  );
  /** Per normalized name: its scratch file, or null when the upstream has no such project. */
  private readonly stored = new Map<string, Promise<StoredPage | null>>();
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly ctx: PlanContext,
    private readonly baseUrl: string,
  ) {
    this.limit = pLimit(ctx.config.concurrency);
  }

  /** The page, or undefined when the index has no such project (404). */
  readonly load: ProjectLoader = (name) => {
    const key = normalizeProjectName(name);
    const cached = this.parsed.get(key);
    if (cached !== undefined) return cached;
    const known = this.stored.get(key);
    const page = known
      ? known.then((stored) => (stored ? parseStored(stored) : undefined))
      : this.fetch(key);
    // A failed read is not kept: the next caller gets the error again, not a stale promise.
    page.catch(() => this.parsed.delete(key));
    this.parsed.set(key, page);
    return page;
  };

  /** Removes the scratch files (the next run's tmp/ sweep catches what a kill leaves). */
  async close(): Promise<void> {
    const files = await Promise.allSettled(this.stored.values());
    for (const result of files) {
      if (result.status === 'fulfilled' && result.value)
        await rm(result.value.file, { force: true });
    }
  }

  /** Fetches the page once: the caller gets it parsed, later misses read it back. */
  private fetch(key: string): Promise<PypiProjectPage | undefined> {
    const fetched = this.limit(() => this.fetchPage(key));
    const stored = fetched.then((f) => f && f.stored);
    stored.catch(() => this.stored.delete(key));
    this.stored.set(key, stored);
    return fetched.then((f) => f?.page);
  }

  private async fetchPage(
    name: string,
  ): Promise<{ stored: StoredPage; page: PypiProjectPage } | null> {
    const url = `${this.baseUrl}${name}/`;
    let res;
    try {
      res = await fetchBytes(url, planFetchOptions(this.ctx, { accept: SIMPLE_ACCEPT }));
    } catch (err) {
      if ((err as { status?: number }).status === 404) return null;
      throw err;
    }
    const stored = {
      // 'index-' files are what the workspace sweeps from tmp/ at the start of a run.
      file: join(this.ctx.workspace.blobs.tmpDir, `index-page-${randomBytes(8).toString('hex')}`),
      contentType: header(res.headers, 'content-type') ?? '',
      url: res.url,
    };
    // Parsed before it is kept: a page the upstream got wrong fails where it was fetched.
    const page = parseProjectPage(res.body.toString('utf8'), stored.contentType, stored.url);
    try {
      await writeFile(stored.file, res.body);
    } catch (err) {
      throw storageErrorFrom(err, 'write', stored.file);
    }
    return { stored, page };
  }
}

async function parseStored(stored: StoredPage): Promise<PypiProjectPage> {
  let text: string;
  try {
    text = await readFile(stored.file, 'utf8');
  } catch (err) {
    throw storageErrorFrom(err, 'read', stored.file);
  }
  return parseProjectPage(text, stored.contentType, stored.url);
}
