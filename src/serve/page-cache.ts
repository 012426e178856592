/**
 * Pages rendered from immutable inputs (a snapshot document and the blobs it names), kept in
 * a bounded LRU with their gzip form, so a burst of pip clients asking for the same project
 * page costs one render and one compression.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { LruCache } from '../lru-cache.js';
import type { RenderedBody } from './send.js';

export class PageCache {
  private readonly pages: LruCache<string, Promise<RenderedBody>>;

  constructor(capacity = 512) {
    this.pages = new LruCache(capacity);
  }

  /** The page if rendered already (or being rendered), without rendering it. */
  peek(key: string): Promise<RenderedBody> | undefined {
    return this.pages.get(key);
  }

  /** `key` must name everything the page depends on (document sha256, path, media type). */
  get(key: string, mediaType: string, render: () => Promise<string>): Promise<RenderedBody> {
    let page = this.pages.get(key);
    if (!page) {
      page = render().then((text) => bodyOf(text, mediaType));
      page.catch(() => this.pages.delete(key));
      this.pages.set(key, page);
    }
    return page;
  }
}

function bodyOf(text: string, mediaType: string): RenderedBody {
  const bytes = Buffer.from(text, 'utf8');
  // Hashing the media type too gives each negotiated form its own ETag; an unchanged page
  // keeps its ETag when 'latest' moves to a new snapshot, so revalidation still answers 304.
  const sha256 = createHash('sha256').update(mediaType).update('\0').update(bytes).digest('hex');
  return { bytes, sha256, gzipped: gzipSync(bytes) };
}
