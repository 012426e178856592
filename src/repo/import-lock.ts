/**
 * The repository's import lock (locks/import.lock). Created exclusively (O_EXCL link on a
 * directory, If-None-Match on S3) with an owner token and an expiry that the holder refreshes
 * while it works. A lock whose expiry passed, or whose holder is a dead process on this host
 * (kill -9, power loss), is taken over, so re-running an interrupted import just works.
 *
 * On a store that honours conditional writes (AWS S3, MinIO, moto; probed once per storage),
 * every step is a compare-and-swap on the lock's ETag: create with If-None-Match: *, renew and
 * take over with If-Match, release with a conditional delete. Nothing another writer put there
 * is ever overwritten or deleted. On a store that ignores them (s3rver) the lock falls back to
 * read-check-write, says so with a 'lock-unconditional' event, and two imports that start
 * within the same round trip could both run: schedule them apart on such a store.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError } from '../errors.js';
import { isObject } from './document-json.js';
import { processAlive } from './import-temp.js';
import { IMPORT_LOCK_KEY } from './layout.js';
import type { ConditionalWrites, Storage } from './storage.js';

export interface LockRecord {
  owner: string;
  host: string;
  pid: number;
  createdAt: string;
  expiresAt: string;
}

export type LockEvent =
  | { type: 'lock-wait'; holder: LockRecord }
  | { type: 'lock-takeover'; holder: LockRecord | undefined; reason: string }
  /** The store ignores conditional writes: the lock works by read-check-write (see above). */
  | { type: 'lock-unconditional'; location: string; reason: string };

export interface LockOptions {
  /** Poll until the lock is free instead of failing with ELOCKED. */
  wait?: boolean;
  /** How long a lock lives without a refresh (default 15 minutes). */
  ttlMs?: number;
  /** Poll interval while waiting (default 2 s). */
  pollMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: LockEvent) => void;
}

export interface HeldLock {
  readonly record: LockRecord;
  /** True when the lock is held by conditional writes (compare-and-swap on its version). */
  readonly conditional: boolean;
  /**
   * Throws an ELOCKLOST StorageError when a refresh found the lock no longer ours (it expired
   * while the store could not be reached, and another process took it over, or someone
   * removed it): the holder must stop before it publishes anything.
   */
  throwIfLost(): void;
  /** Stops refreshing and removes the lock if it is still ours. */
  release(): Promise<void>;
}

const DEFAULT_TTL_MS = 15 * 60 * 1000;

export async function acquireImportLock(
  storage: Storage,
  opts: LockOptions = {},
): Promise<HeldLock> {
  const ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  const support = await storage.conditionalWrites?.();
  if (support?.supported) return acquireConditional(storage, support.writes, ttlMs, opts);
  if (support) {
    opts.onEvent?.({
      type: 'lock-unconditional',
      location: storage.location,
      reason: support.reason,
    });
  }
  for (;;) {
    opts.signal?.throwIfAborted();
    const record = newRecord(ttlMs);
    const body = serialize(record);
    if (await storage.createExclusive(IMPORT_LOCK_KEY, body)) {
      return holdLock(storage, record, ttlMs);
    }
    const seen = await storage.readBuffer(IMPORT_LOCK_KEY);
    if (seen === undefined) continue; // released between our attempt and the read
    const holder = parseLock(seen);
    const stale = holder ? staleReason(holder) : 'the lock record is unreadable';
    if (stale) {
      opts.onEvent?.({ type: 'lock-takeover', holder, reason: stale });
      // Delete only what we judged stale: a lock replaced meanwhile is someone else's.
      const now = await storage.readBuffer(IMPORT_LOCK_KEY);
      if (now?.equals(seen)) await storage.delete(IMPORT_LOCK_KEY);
      continue;
    }
    if (!opts.wait) throw lockedError(storage, holder!);
    opts.onEvent?.({ type: 'lock-wait', holder: holder! });
    await sleep(opts.pollMs ?? 2000, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}

async function acquireConditional(
  storage: Storage,
  writes: ConditionalWrites,
  ttlMs: number,
  opts: LockOptions,
): Promise<HeldLock> {
  for (;;) {
    opts.signal?.throwIfAborted();
    const record = newRecord(ttlMs);
    const created = await writes.createIfAbsent(IMPORT_LOCK_KEY, serialize(record));
    if (created !== undefined) return holdConditional(storage, writes, record, created, ttlMs);
    const seen = await writes.readVersioned(IMPORT_LOCK_KEY);
    if (seen === undefined) continue; // released between our attempt and the read
    const holder = parseLock(seen.body);
    // A create whose reply was lost and which the SDK retried comes back as "exists": it is ours.
    if (holder?.owner === record.owner) {
      return holdConditional(storage, writes, holder, seen.version, ttlMs);
    }
    const stale = holder ? staleReason(holder) : 'the lock record is unreadable';
    if (stale) {
      opts.onEvent?.({ type: 'lock-takeover', holder, reason: stale });
      // Replace exactly the version judged stale: if anyone renewed or replaced it meanwhile,
      // the write fails and the loop looks again.
      const taken = await writes.replaceIfMatch(IMPORT_LOCK_KEY, serialize(record), seen.version);
      if (taken !== undefined) return holdConditional(storage, writes, record, taken, ttlMs);
      continue;
    }
    if (!opts.wait) throw lockedError(storage, holder!);
    opts.onEvent?.({ type: 'lock-wait', holder: holder! });
    await sleep(opts.pollMs ?? 2000, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}

function holdConditional(
  storage: Storage,
  writes: ConditionalWrites,
  record: LockRecord,
  createdVersion: string,
  ttlMs: number,
): HeldLock {
  let current = record;
  let version: string | undefined = createdVersion;
  let refreshing: Promise<void> = Promise.resolve();
  let lost = false;
  /** Our lock's version as stored now, or undefined when the lock is no longer ours. */
  const ownVersion = async (): Promise<string | undefined> => {
    const seen = await writes.readVersioned(IMPORT_LOCK_KEY);
    return seen && parseLock(seen.body)?.owner === record.owner ? seen.version : undefined;
  };
  const timer = setInterval(
    () => {
      refreshing = refreshing.then(async () => {
        if (version === undefined) return;
        const next = { ...current, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
        try {
          const renewed = await writes.replaceIfMatch(IMPORT_LOCK_KEY, serialize(next), version);
          if (renewed !== undefined) {
            [version, current] = [renewed, next];
            return;
          }
          // Refused: taken over after expiring, or our own write whose reply was lost and
          // which the SDK retried. Only the stored owner tells which.
          version = await ownVersion();
          lost = version === undefined;
        } catch {
          // The store is unreachable for now: the next refresh tries again, well before expiry.
        }
      });
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    record,
    conditional: true,
    throwIfLost: () => {
      if (lost) throw lostError(storage);
    },
    async release() {
      clearInterval(timer);
      await refreshing;
      if (version === undefined) return;
      if (await writes.deleteIfMatch(IMPORT_LOCK_KEY, version)) return;
      const stored = await ownVersion();
      if (stored !== undefined) await writes.deleteIfMatch(IMPORT_LOCK_KEY, stored);
    },
  };
}

/** The current lock holder, if any (status). */
export async function readImportLock(storage: Storage): Promise<LockRecord | undefined> {
  const bytes = await storage.readBuffer(IMPORT_LOCK_KEY);
  return bytes === undefined ? undefined : parseLock(bytes);
}

function holdLock(storage: Storage, record: LockRecord, ttlMs: number): HeldLock {
  let current = record;
  let refreshing: Promise<void> = Promise.resolve();
  let lost = false;
  // Refresh well before expiry so a slow import over a large bundle keeps its lock.
  const timer = setInterval(
    () => {
      refreshing = refreshing.then(async () => {
        if (lost) return;
        let stored: Buffer | undefined;
        try {
          stored = await storage.readBuffer(IMPORT_LOCK_KEY);
        } catch {
          return; // unreachable for now: the next refresh tries again, well before expiry
        }
        if (!stored || parseLock(stored)?.owner !== record.owner) {
          lost = true;
          return;
        }
        const next = { ...current, expiresAt: new Date(Date.now() + ttlMs).toISOString() };
        await storage.write(IMPORT_LOCK_KEY, serialize(next)).then(
          () => (current = next),
          () => {},
        );
      });
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    record,
    conditional: false,
    throwIfLost: () => {
      if (lost) throw lostError(storage);
    },
    async release() {
      clearInterval(timer);
      await refreshing;
      const stored = await storage.readBuffer(IMPORT_LOCK_KEY);
      if (stored && parseLock(stored)?.owner === record.owner) {
        await storage.delete(IMPORT_LOCK_KEY);
      }
    },
  };
}

function staleReason(holder: LockRecord): string | undefined {
  if (Date.parse(holder.expiresAt) < Date.now()) return `it expired at ${holder.expiresAt}`;
  if (holder.host === hostname() && holder.pid !== process.pid && !processAlive(holder.pid)) {
    return `its process ${holder.pid} on this host is gone`;
  }
  return undefined;
}

function lockedError(storage: Storage, holder: LockRecord): StorageError {
  return new StorageError(
    `another import into ${storage.location} is running: host ${holder.host}, pid ${holder.pid}, since ${holder.createdAt} (lock expires ${holder.expiresAt})`,
    {
      code: 'ELOCKED',
      hint: `wait for it to finish and run the same command again; if that process is dead on another host, remove ${IMPORT_LOCK_KEY} from the repository`,
    },
  );
}

function lostError(storage: Storage): StorageError {
  return new StorageError(
    `lost the import lock of ${storage.location}: another process holds ${IMPORT_LOCK_KEY} now (ours expired, or was removed, while this import ran); nothing more was published`,
    {
      code: 'ELOCKLOST',
      hint: 'check that the store stays reachable during imports, then run the same command again: it resumes where it stopped',
    },
  );
}

function newRecord(ttlMs: number): LockRecord {
  const now = Date.now();
  return {
    owner: randomBytes(16).toString('hex'),
    host: hostname(),
    pid: process.pid,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
  };
}

function serialize(record: LockRecord): string {
  return `${JSON.stringify(record)}\n`;
}

function parseLock(bytes: Buffer): LockRecord | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (!isObject(value)) return undefined;
    const { owner, host, pid, createdAt, expiresAt } = value;
    if (typeof owner !== 'string' || typeof host !== 'string' || typeof pid !== 'number')
      return undefined;
    if (typeof createdAt !== 'string' || typeof expiresAt !== 'string') return undefined;
    return { owner, host, pid, createdAt, expiresAt };
  } catch {
    return undefined;
  }
}
