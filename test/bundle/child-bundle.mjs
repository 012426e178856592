// Test-only: runs writeBundle from the compiled dist/ in a child process, so that the
// interrupt test can SIGKILL it mid-write. Args: WORKSPACE_JSON OUT_DIR RECORD_FILE PART_SIZE
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBundle } from '../../dist/bundle/index.js';

const [descPath, outDir, recordPath, partSize] = process.argv.slice(2);
const desc = JSON.parse(readFileSync(descPath, 'utf8'));
const entries = new Map(desc.entries);
const bundles = [];
const workspace = {
  listSnapshots: () => desc.snapshots,
  entries: (ref) => entries.get(`${ref.source}/${ref.snapshot}`) ?? [],
  blobPath: (sha) => join(desc.root, 'blobs', sha.slice(0, 2), sha),
  lastBundle: () => bundles.at(-1)?.info,
  getBundle: (id) => bundles.find((b) => b.info.id === id)?.info,
  bundleBlobs: (id) => bundles.find((b) => b.info.id === id)?.blobs ?? [],
  recordBundle: (info, blobs) => {
    bundles.push({ info, blobs: [...blobs] });
    writeFileSync(recordPath, JSON.stringify(info));
  },
};
const result = await writeBundle({
  workspace,
  outDir,
  maxPartSize: Number(partSize),
  airlockVersion: 'child',
  full: true,
});
process.stdout.write(JSON.stringify({ manifestPath: result.manifestPath ?? null }));
