#!/usr/bin/env node
/**
 * The functions a V8 .cpuprofile (from `node --cpu-prof`) spent the most self time in.
 *   node bench/top-profile.js FILE.cpuprofile [N]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** [{ name, where, selfMs, share }] for the top `count` functions by self time. */
export function topFunctions(file, count = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // timeDeltas[i] is the time between samples i-1 and i, charged to the node sampled at i.
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id).callFrame;
    const where = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`;
    const entry = byFunction.get(key) ?? {
      name: frame.functionName || '(anonymous)',
      where,
      selfUs: 0,
    };
    entry.selfUs += us;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.selfUs - a.selfUs)
    .slice(0, count)
    .map((e) => ({
      name: e.name,
      where: e.where,
      selfMs: e.selfUs / 1000,
      share: e.selfUs / total,
    }));
}

export function formatTop(rows) {
  return rows
    .map(
      (r) =>
        `${(r.share * 100).toFixed(1).padStart(5)} %  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`,
    )
    .join('\n');
}

/** node_modules/undici/lib/... and dist/... instead of file:///long/absolute/paths. */
function shorten(url) {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules);
  const dist = path.lastIndexOf('/dist/');
  return dist >= 0 ? path.slice(dist + 1) : path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/top-profile.js FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  console.log(formatTop(topFunctions(file, Number(count ?? 15))));
}
