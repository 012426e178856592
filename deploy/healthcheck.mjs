// The image's HEALTHCHECK: GET /healthz from the `airlock serve` running as PID 1, on the port
// its command line names (4242 by default), so a changed --port needs no second setting.
// Exit 0 healthy, 1 not (the container runtime's convention).
import { readFileSync } from 'node:fs';

let port = '4242';
let host = '127.0.0.1';
try {
  const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
  const option = (name) => {
    const i = args.indexOf(name);
    if (i >= 0 && args[i + 1]) return args[i + 1];
    return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  port = option('--port') ?? port;
  const listen = option('--host');
  // A wildcard address is reached on loopback; a named one only on itself.
  if (listen && !['0.0.0.0', '::', '[::]'].includes(listen))
    host = listen.includes(':') ? `[${listen}]` : listen;
} catch {
  // No /proc: keep the defaults.
}
try {
  const res = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
