/**
 * Serialises tasks that share a key within one process (per store, so separate workspaces in
 * one process never wait for each other). A task runs after the previous one with its key
 * settles, whatever its outcome.
 */
const queues = new WeakMap<object, Map<string, Promise<unknown>>>();

export function oneAtATime<T>(scope: object, key: string, task: () => Promise<T>): Promise<T> {
  let byKey = queues.get(scope);
  if (byKey === undefined) queues.set(scope, (byKey = new Map()));
  const map = byKey;
  const run = (map.get(key) ?? Promise.resolve()).then(task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  map.set(key, settled);
  void settled.then(() => {
    if (map.get(key) === settled) map.delete(key);
  });
  return run;
}
