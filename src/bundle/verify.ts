/**
 * `airlock verify`: every check the importer makes on the bundle's own content, without
 * importing (what only a repository can answer, a delta's parent and the blobs it left to the
 * parent chain, is counted, not checked). Signature, parts present at their sizes, then one
 * pass over the parts through the same reader the importer uses (readBundle): each part's
 * sha256 and, inside the tar, the index's content and every entry against it. When a part is damaged the remaining parts are still
 * hashed, so one run lists every part to re-copy.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { IntegrityError } from '../errors.js';
import { releaseReport } from './carried-release.js';
import type { VerifyEvent, VerifySummary } from './events.js';
import { describePart, openBundle, type OpenedBundle } from './open.js';
import { readBundle } from './read.js';

export interface VerifyOptions {
  trust?: string;
  onEvent?: (e: VerifyEvent) => void;
  signal?: AbortSignal;
}

const PROGRESS_STEP = 8 * 1024 * 1024;

export async function verifyBundle(
  manifestPath: string,
  opts: VerifyOptions = {},
): Promise<VerifySummary> {
  const started = performance.now();
  const emit = opts.onEvent ?? (() => undefined);
  const bundle = await openBundle(
    manifestPath,
    opts.trust === undefined ? {} : { trust: opts.trust },
  );
  const m = bundle.manifest;
  emit({
    type: 'opened',
    name: m.name,
    parts: m.partCount,
    totalBytes: m.totalBytes,
    signature: bundle.signature,
    ...(bundle.signer === undefined ? {} : { signer: bundle.signer }),
  });
  let reported = 0;
  let partsDone = 0;
  const emitPart = (i: number): void =>
    emit({ type: 'part', name: m.parts[i]!.name, index: i + 1, ok: true });
  let result;
  let blobsFromParent = 0;
  try {
    result = await readBundle(
      bundle,
      {
        // The reader's own content checks (IndexContent) are the importer's: nothing to add
        // but the count of what a delta leaves to its parent chain.
        onIndexEnd: (content) => {
          blobsFromParent = content.uncarriedCount();
        },
        // Draining is the check: the body errors instead of ending when the blob is wrong.
        onBlob: (_record, body) => finished(body.resume()),
        onProgress: (bytes, total) => {
          // A part is known good once reading has moved past it (its hash is checked at its end).
          while (
            partsDone < m.partCount &&
            bytes > m.parts[partsDone]!.offset + m.parts[partsDone]!.size
          ) {
            emitPart(partsDone);
            partsDone += 1;
          }
          if (bytes - reported >= PROGRESS_STEP || bytes === total) {
            reported = bytes;
            emit({ type: 'progress', bytes, totalBytes: total });
          }
        },
      },
      { signal: opts.signal },
    );
  } catch (err) {
    throw await withOtherDamagedParts(bundle, err, opts.signal);
  }
  for (; partsDone < m.partCount; partsDone += 1) emitPart(partsDone);
  const summary: VerifySummary = {
    id: m.id,
    name: m.name,
    parent: m.parent,
    full: m.full,
    parts: m.partCount,
    bytes: m.totalBytes,
    blobs: result.blobs,
    blobsFromParent,
    entries: m.entryCount,
    snapshots: m.snapshots,
    signature: bundle.signature,
    ...(bundle.signer === undefined ? {} : { signer: bundle.signer }),
    warnings: bundle.sumsWarnings,
    ...(m.release ? { release: releaseReport(m.release) } : {}),
    seconds: (performance.now() - started) / 1000,
  };
  emit({ type: 'done', summary });
  return summary;
}

/** After a damaged part, hashes the parts after it so that the error lists all of them. */
async function withOtherDamagedParts(
  bundle: OpenedBundle,
  err: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  if (!(err instanceof IntegrityError) || err.code !== 'EPART') return err;
  const m = bundle.manifest;
  const failed = m.parts.findIndex((p) => err.message.startsWith(describePart(m, p)));
  if (failed < 0) return err;
  const others: string[] = [];
  for (const part of m.parts.slice(failed + 1)) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(bundle.dir, part.name), {
      highWaterMark: 1 << 20,
      signal,
    })) {
      hash.update(chunk as Buffer);
    }
    if (hash.digest('hex') !== part.sha256) others.push(`part ${part.index}`);
  }
  if (others.length === 0) return err;
  return new IntegrityError(
    `${err.message}; ${others.join(', ')} of ${m.partCount} also do not match their sha256`,
    {
      code: 'EPART',
      hint: `re-copy part ${m.parts[failed]!.index} and ${others.join(', ')} from the source media, then run again`,
      cause: err,
    },
  );
}
