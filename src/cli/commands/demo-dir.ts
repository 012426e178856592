/**
 * Where `airlock demo` works: a temp dir of its own (removed when the demo ends with Ctrl-C or
 * a failure, kept after --no-serve so the result can be looked at), or --dir, which a re-run
 * may reuse: what an earlier demo left there is cleared first (a marker file says the dir is
 * a demo's), and a dir holding anything else is refused rather than emptied.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';

const MARKER = '.airlock-demo';
/** What a demo writes in its dir: nothing else is ever removed. */
const DEMO_ENTRY = /^(upstream|workspace|repo|carry-\d+|airlock\.(key|pub)|mirror-[\d-]+\.yaml)$/;

export interface DemoDir {
  root: string;
  /** Removes the dir when it is the demo's own temp dir; a --dir is kept. */
  cleanUp(): void;
  own: boolean;
}

export function prepareDemoDir(dir: string | undefined): DemoDir {
  if (dir === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'airlock-demo-'));
    writeFileSync(join(root, MARKER), '');
    return { root, own: true, cleanUp: () => rmSync(root, { recursive: true, force: true }) };
  }
  mkdirSync(dir, { recursive: true });
  const entries = readdirSync(dir);
  if (entries.length > 0 && !existsSync(join(dir, MARKER))) {
    throw new UsageError(`--dir ${dir} is not empty and holds no earlier demo`, {
      hint: 'give an empty or new directory, or the one an earlier airlock demo used',
    });
  }
  for (const entry of entries) {
    if (DEMO_ENTRY.test(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  writeFileSync(join(dir, MARKER), '');
  return { root: dir, own: false, cleanUp: () => undefined };
}
