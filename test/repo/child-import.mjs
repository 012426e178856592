// Runs one import from the compiled library (dist/), for the crash tests. AIRLOCK_TEST_KILL
// (read only by this script) makes the process SIGKILL itself at a chosen point by wrapping
// the storage it hands to the library, so the library carries no test hooks:
//   early            right after the import lock is taken
//   blob-bytes:N     after N bytes of blob data have gone into storage (mid-blob)
//   before-documents before the first snapshot document is stored (blobs all in)
//   before-record    after published.json, before bundles/<id>.json
// AIRLOCK_TEST_KILL_DELAY_MS (default 100): how long a mid-blob kill waits for the bytes
// already passed to reach storage (an S3 multipart upload needs a few round trips).
import { Readable, Transform } from 'node:stream';
import { importBundle } from '../../dist/repo/import.js';
import { openStorage } from '../../dist/repo/open-storage.js';

const [repo, manifestPath] = process.argv.slice(2);
const kill = process.env.AIRLOCK_TEST_KILL ?? '';
const die = () => process.kill(process.pid, 'SIGKILL');

const storage = await openStorage(repo, { create: true });
let blobBytes = 0;
const killAfterBytes = kill.startsWith('blob-bytes:') ? Number(kill.slice(11)) : Infinity;

const createExclusive = storage.createExclusive.bind(storage);
storage.createExclusive = async (key, body) => {
  const created = await createExclusive(key, body);
  if (kill === 'early' && key === 'locks/import.lock' && created) die();
  return created;
};
// On a store with conditional writes the lock is taken through them instead.
const conditionalWrites = storage.conditionalWrites?.bind(storage);
if (conditionalWrites) {
  storage.conditionalWrites = async () => {
    const support = await conditionalWrites();
    if (!support.supported) return support;
    const createIfAbsent = support.writes.createIfAbsent;
    const writes = {
      ...support.writes,
      createIfAbsent: async (key, body) => {
        const version = await createIfAbsent(key, body);
        if (kill === 'early' && key === 'locks/import.lock' && version !== undefined) die();
        return version;
      },
    };
    return { supported: true, writes };
  };
}
const writeStream = storage.writeStream.bind(storage);
storage.writeStream = async (key, body, size, opts) => {
  if (key.startsWith('snapshots/') && kill === 'before-documents') die();
  if (!key.startsWith('blobs/')) return writeStream(key, body, size, opts);
  const counting = new Transform({
    transform(chunk, _enc, done) {
      blobBytes += chunk.length;
      if (blobBytes < killAfterBytes) return done(null, chunk);
      // Stall this blob for good (the import cannot finish), give the bytes already passed
      // time to reach the temp file (or the S3 upload), then die mid-write.
      setTimeout(die, Number(process.env.AIRLOCK_TEST_KILL_DELAY_MS ?? 100));
    },
  });
  body.on('error', (err) => counting.destroy(err));
  return writeStream(key, body.pipe(counting), size, opts);
};
const write = storage.write.bind(storage);
storage.write = async (key, body, opts) => {
  if (key.startsWith('bundles/') && kill === 'before-record') die();
  // Small blobs arrive whole (buffered by the importer): stream them through the same counter
  // so that a kill can land in the middle of any blob's write.
  if (key.startsWith('blobs/')) {
    const bytes = Buffer.from(body);
    return storage.writeStream(key, Readable.from([bytes]), bytes.length, opts);
  }
  return write(key, body, opts);
};

// The directory backend stores small blobs in batches: the batch holding the byte at which
// the kill is due stores the blobs before that one as a batch, then streams that one through
// the counter above, which dies in the middle of its write.
const writeBatch = storage.writeBatch?.bind(storage);
if (writeBatch) {
  storage.writeBatch = async (items, opts) => {
    let before = 0;
    let bytes = blobBytes;
    while (before < items.length && bytes + items[before].body.length < killAfterBytes) {
      bytes += items[before].body.length;
      before++;
    }
    if (before === items.length) {
      blobBytes = bytes;
      return writeBatch(items, opts);
    }
    const written = await writeBatch(items.slice(0, before), opts);
    blobBytes = bytes;
    const { key, body } = items[before];
    await storage.writeStream(key, Readable.from([body]), body.length, opts);
    return written;
  };
}

const summary = await importBundle({ manifestPath, storage });
process.stdout.write(`${JSON.stringify(summary)}\n`);
