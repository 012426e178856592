/**
 * Why a server could not listen, said as the operator's choice to change: a port in use, a
 * port below 1024 without the privilege, an address this host does not have. These are bad
 * usage (exit 2: choose another --port or --host), not bugs with a stack.
 */
import { createServer } from 'node:net';
import { UsageError } from '../errors.js';

const REASONS: Record<string, { why: string; hint: string }> = {
  EADDRINUSE: {
    why: 'the port is already in use',
    hint: 'stop what listens there (ss -ltnp shows it), or choose another --port (0: any free port)',
  },
  EACCES: {
    why: 'permission denied (ports below 1024 need privileges)',
    hint: 'choose a --port of 1024 or above, or grant CAP_NET_BIND_SERVICE',
  },
  EADDRNOTAVAIL: {
    why: 'this host has no such address',
    hint: 'give --host an address of this host (127.0.0.1, 0.0.0.0 for all, or one that ip addr lists)',
  },
  ENOTFOUND: {
    why: 'the host name does not resolve',
    hint: 'give --host an address or a name of this host',
  },
  EAI_AGAIN: {
    why: 'the host name could not be resolved',
    hint: 'give --host an IP address of this host',
  },
  EAFNOSUPPORT: {
    why: 'the address family is not supported here',
    hint: 'give --host an IPv4 address (IPv6 may be disabled on this host)',
  },
};

/** A listen failure as a UsageError naming host:port; anything unexpected passes unchanged. */
export function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === undefined ? undefined : REASONS[code];
  if (!reason) return err;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new UsageError(`cannot listen on ${where}: ${reason.why} (${code})`, {
    hint: reason.hint,
    cause: err,
  });
}

/**
 * Fails now, with listenError's message, when `host:port` cannot be listened on: for a command
 * that listens only after minutes of other work (demo).
 */
export async function requireListenable(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, host, port)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
