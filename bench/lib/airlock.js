/** Runs the built airlock CLI (bin/airlock.js over dist/) the way an operator would. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, start } from './tools.js';

export const AIRLOCK_BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));

let commands;

/** Whether this build has `airlock COMMAND` (import and serve arrive while the bench is written). */
export function airlockHas(command) {
  if (!commands) {
    const help = execFileSync(process.execPath, [AIRLOCK_BIN, '--help'], { encoding: 'utf8' });
    commands = new Set([...help.matchAll(/^\s+airlock (\S+)/gm)].map((m) => m[1]));
  }
  return commands.has(command);
}

/** `node [nodeArgs] bin/airlock.js args`, timed; parses the --json summary when asked for. */
export async function airlock(args, opts = {}) {
  const result = await run(process.execPath, [...(opts.nodeArgs ?? []), AIRLOCK_BIN, ...args], {
    ...opts,
    stdout: 'capture',
  });
  return { ...result, summary: args.includes('--json') ? parseSummary(result) : undefined };
}

export function startAirlock(args, opts = {}) {
  return start(process.execPath, [AIRLOCK_BIN, ...args], { stdout: 'capture', ...opts });
}

function parseSummary(result) {
  try {
    return JSON.parse(result.stdout);
  } catch {
    return undefined;
  }
}
