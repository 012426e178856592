// Runs one prune from the compiled library (dist/), for the crash tests. Arguments: the
// repository (a directory or s3://bucket/prefix; AIRLOCK_TEST_S3_ENDPOINT for s3rver) and the
// selectors as JSON. AIRLOCK_TEST_KILL (read only by this script) makes the process SIGKILL
// itself at a chosen point by wrapping the storage it hands to the library:
//   after-record        after prune.json is first written, before published.json
//   after-publish       after published.json, before any deletion
//   mid-delete:N        after N keys were deleted
//   before-final-record after the deletions, before prune.json is written again
import { openStorage } from '../../dist/repo/open-storage.js';
import { pruneRepository } from '../../dist/repo/prune.js';
import { parseRetention } from '../../dist/prune/retention.js';

const [repo, selectors, grace] = process.argv.slice(2);
const kill = process.env.AIRLOCK_TEST_KILL ?? '';
const die = () => process.kill(process.pid, 'SIGKILL');

const endpoint = process.env.AIRLOCK_TEST_S3_ENDPOINT;
const storage = await openStorage(repo, {
  ...(endpoint
    ? { s3Endpoint: endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }
    : {}),
});

let recordWrites = 0;
const write = storage.write.bind(storage);
storage.write = async (key, body, opts) => {
  if (key === 'prune.json' && ++recordWrites === 2 && kill === 'before-final-record') die();
  await write(key, body, opts);
  if (key === 'prune.json' && recordWrites === 1 && kill === 'after-record') die();
  if (key === 'published.json' && kill === 'after-publish') die();
};
let deletes = 0;
const killAfterDeletes = kill.startsWith('mid-delete:') ? Number(kill.slice(11)) : Infinity;
const del = storage.delete.bind(storage);
storage.delete = async (key) => {
  await del(key);
  if (!key.startsWith('locks/') && ++deletes >= killAfterDeletes) die();
};

const summary = await pruneRepository({
  storage,
  rule: parseRetention(JSON.parse(selectors)),
  graceMs: Number(grace ?? 0),
});
process.stdout.write(`${JSON.stringify(summary)}\n`);
await storage.close();
