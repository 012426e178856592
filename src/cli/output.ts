/**
 * How commands talk to people and programs: progress bars on a terminal, plain line-per-event
 * logs otherwise (cron), and with --json one JSON object on stdout and nothing else there.
 */
import cliProgress from 'cli-progress';
import { formatSize } from '../size.js';
import { writeJson } from './json-writer.js';

export interface OutputOptions {
  json: boolean;
  /** Interval of plain progress lines, ms (cron logs stay short). */
  plainEveryMs?: number;
}

export interface Progress {
  /** Absolute values; `bytes` may be undefined for file-count-only progress. */
  update(done: number, bytes?: number): void;
  setTotal(total: number, totalBytes?: number): void;
  stop(): void;
}

export class Output {
  readonly json: boolean;
  readonly tty: boolean;
  private readonly plainEveryMs: number;

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.tty = !opts.json && Boolean(process.stderr.isTTY) && process.env.CI !== 'true';
    this.plainEveryMs = opts.plainEveryMs ?? 5000;
  }

  /** A human-readable line: stdout normally, stderr under --json so stdout stays one object. */
  line(text: string): void {
    (this.json ? process.stderr : process.stdout).write(`${text}\n`);
  }

  /** Lines worth nothing in a JSON run (per-event chatter). */
  info(text: string): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    process.stderr.write(`airlock: warning: ${text}\n`);
  }

  /** The --json result; a JsonList inside is written as it is iterated (see writeJson). */
  result(value: unknown): void {
    if (this.json) writeJson((text) => process.stdout.write(text), value);
  }

  progress(label: string, total: number, totalBytes?: number): Progress {
    if (this.json) return { update() {}, setTotal() {}, stop() {} };
    return this.tty
      ? barProgress(label, total, totalBytes)
      : plainProgress(this, label, total, totalBytes, this.plainEveryMs);
  }
}

function barProgress(label: string, total: number, totalBytes?: number): Progress {
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      // Our own {eta}: cli-progress's eta_formatted shows "NFs" (an infinite estimate) until
      // the first progress, and after a stall.
      format: `${label} [{bar}] {value}/{total} | {size} | {rate} | ETA {eta}`,
      stream: process.stderr,
      hideCursor: true,
      barsize: 30,
      etaBuffer: 50,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let knownBytes = totalBytes;
  bar.start(total, 0, { size: '0 B', rate: '-', eta: '-' });
  let barTotal = total;
  return {
    update(done, bytes) {
      const secs = (Date.now() - started) / 1000;
      const size =
        bytes === undefined
          ? ''
          : knownBytes
            ? `${formatSize(bytes)}/${formatSize(knownBytes)}`
            : formatSize(bytes);
      const rate = bytes === undefined || secs <= 0 ? '-' : `${formatSize(bytes / secs)}/s`;
      bar.update(done, { size, rate, eta: formatEta(done, barTotal, secs) });
    },
    setTotal(t, tb) {
      knownBytes = tb;
      barTotal = t;
      bar.setTotal(t);
    },
    stop() {
      bar.stop();
    },
  };
}

function plainProgress(
  out: Output,
  label: string,
  total: number,
  totalBytes: number | undefined,
  everyMs: number,
): Progress {
  const started = Date.now();
  let last = started;
  let state = { done: 0, bytes: 0 as number | undefined };
  const print = () => {
    const secs = (Date.now() - started) / 1000;
    const bytes =
      state.bytes === undefined
        ? ''
        : `, ${formatSize(state.bytes)}${totalBytes ? ` of ${formatSize(totalBytes)}` : ''}`;
    const rate = state.bytes && secs > 0 ? `, ${formatSize(state.bytes / secs)}/s` : '';
    out.line(`${label}: ${state.done}/${total}${bytes}${rate}`);
  };
  return {
    update(done, bytes) {
      state = { done, bytes };
      const now = Date.now();
      if (now - last >= everyMs) {
        last = now;
        print();
      }
    },
    setTotal(t, tb) {
      total = t;
      totalBytes = tb;
    },
    stop() {},
  };
}

/**
 * The time left at the average pace so far: "-" until there is a pace to go by (nothing done
 * yet, or no time passed), never "NFs" or "NaN".
 */
export function formatEta(done: number, total: number, seconds: number): string {
  if (done >= total && total > 0) return '0s';
  if (!(done > 0) || !(seconds > 0) || !(total > done)) return '-';
  const left = Math.round((seconds * (total - done)) / done);
  if (!Number.isFinite(left)) return '-';
  if (left < 60) return `${left}s`;
  if (left < 3600) return `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s`;
  return `${Math.floor(left / 3600)}h${String(Math.floor((left % 3600) / 60)).padStart(2, '0')}m`;
}
