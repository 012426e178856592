/** Turns download events into a progress display per source. */
import type { DownloadEvent } from '../download/plan-types.js';
import { failureLine } from './failure-line.js';
import type { Output, Progress } from './output.js';
import { formatSize } from '../size.js';

export class DownloadProgress {
  private bar: Progress | undefined;
  private files = 0;
  private bytes = 0;

  /** Sources already told about planning's fetches: one notice each, before the first. */
  private readonly planningFetches = new Set<string>();
  private readonly retriesShown = new Set<string>();

  constructor(
    private readonly out: Output,
    private readonly dryRun = false,
  ) {}

  onEvent(e: DownloadEvent): void {
    switch (e.type) {
      case 'planned':
        this.out.info(
          `${e.source}/${e.snapshot}: ${e.files} files planned, ${e.present} already present`,
        );
        break;
      case 'fetch-start':
        this.stop();
        this.files = 0;
        this.bytes = 0;
        this.bar = this.out.progress(`${e.source}`, e.files, e.bytes || undefined);
        break;
      case 'progress':
        this.bytes += e.bytes;
        this.bar?.update(this.files, this.bytes);
        break;
      case 'file':
        this.files++;
        if (e.skipped) this.bytes += e.bytes;
        this.bar?.update(this.files, this.bytes);
        break;
      case 'failed':
        this.files++;
        this.out.warn(failureLine(e));
        break;
      case 'retry':
        this.retry(e);
        break;
      case 'index':
        break;
      case 'metadata-fetch':
        // Said before the first byte, on stderr: a dry run that downloads must not be a surprise.
        if (this.planningFetches.has(e.source)) break;
        this.planningFetches.add(e.source);
        this.out.warn(
          `${e.source}: planning ${this.dryRun ? 'must fetch' : 'fetches'} whole distributions to read their dependencies ` +
            `(the upstream has no PEP 658 metadata for them; first: ${e.filename}${e.size === undefined ? '' : `, ${formatSize(e.size)}`}); ` +
            'they obey --limit-rate and stay in the workspace; --metadata-fetch never forbids this',
        );
        break;
      case 'metadata-fetched':
        break;
      case 'source-done':
        this.stop();
        break;
    }
  }

  /**
   * One line per retry, so a dead upstream or proxy is not half a minute of silence; when
   * many files fail alike (one dead proxy, 300 files) only the first of each origin, reason
   * and attempt is printed.
   */
  private retry(e: Extract<DownloadEvent, { type: 'retry' }>): void {
    let origin = e.url;
    try {
      origin = new URL(e.url).origin;
    } catch {
      // keep the whole URL
    }
    const key = `${origin}|${e.reason}|${e.attempt}`;
    if (this.retriesShown.has(key)) return;
    this.retriesShown.add(key);
    this.out.warn(
      `retrying ${e.url} (${e.reason}): attempt ${e.attempt} of ${e.of} failed, next in ${(e.delayMs / 1000).toFixed(1)} s`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
