// Runs one workspace prune from the compiled library (dist/), for the crash tests. Arguments:
// the workspace and the selectors as JSON. AIRLOCK_TEST_KILL (read only by this script) makes
// the process SIGKILL itself after state.db committed: before the Nth blob file is removed
// ('file:N'; file:1 = before any).
import { Workspace } from '../../dist/workspace/workspace.js';
import { pruneWorkspace } from '../../dist/workspace/prune.js';
import { parseRetention } from '../../dist/prune/retention.js';

const [dir, selectors] = process.argv.slice(2);
const kill = process.env.AIRLOCK_TEST_KILL ?? '';
const killAt = kill.startsWith('file:') ? Number(kill.slice(5)) : Infinity;

const ws = Workspace.open(dir, { lockFor: 'prune' });
// The prune asks for a blob's path just before it removes the file.
const blobPath = ws.blobPath.bind(ws);
let files = 0;
ws.blobPath = (sha256) => {
  if (++files >= killAt) process.kill(process.pid, 'SIGKILL');
  return blobPath(sha256);
};
const summary = await pruneWorkspace(ws, { rule: parseRetention(JSON.parse(selectors)) });
ws.close();
process.stdout.write(`${JSON.stringify(summary)}\n`);
