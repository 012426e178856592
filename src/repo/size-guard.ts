/**
 * A byte counter in front of a storage write: the stream errors (so the backend writes
 * nothing at the key) when the body is shorter or longer than the size the caller declared.
 * Bundle bodies carry their own hash check; this guards every other caller the same way.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { IntegrityError } from '../errors.js';

export function guardSize(body: Readable, size: number, key: string): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > size) done(sizeError(key, seen, size));
      else done(null, chunk);
    },
    flush(done) {
      done(seen === size ? null : sizeError(key, seen, size));
    },
  });
  // pipeline() carries a body error into the guard (and so to whoever reads it) exactly once.
  pipeline(body, guard, () => {});
  keepErrorForConsumer(guard);
  return guard;
}

function sizeError(key: string, seen: number, size: number): IntegrityError {
  const what = seen > size ? `more than ${size} bytes` : `${seen} bytes, expected ${size}`;
  return new IntegrityError(`${key}: received ${what}`, {
    code: 'ESIZE',
    hint: 'the source of these bytes is truncated or corrupt; nothing was stored',
  });
}

/**
 * A body can fail before its consumer is attached (a small blob is buffered whole and its hash
 * check fires while the caller still awaits a stat). Without a listener that 'error' would
 * crash the process; with this one the error stays in `stream.errored`, and the consumer's
 * pipeline() rejects with it as soon as it is attached.
 */
export function keepErrorForConsumer(stream: Readable): void {
  stream.on('error', () => {});
}
