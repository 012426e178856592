/** Turns download events into a progress display per source. */
import type { DownloadEvent } from '../download/plan-types.js';
import { failureLine } from './failure-line.js';
import type { Output, Progress } from './output.js';

export class DownloadProgress {
  private bar: Progress | undefined;
  private files = 0;
  private bytes = 0;

  constructor(private readonly out: Output) {}

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
        break;
      case 'index':
        break;
      case 'source-done':
        this.stop();
        break;
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
