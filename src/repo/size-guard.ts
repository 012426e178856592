/**
 * A byte counter in front of a storage write: the stream errors (so the backend writes
 * nothing at the key) when the body is shorter or longer than the size the caller declared.
 * Bundle bodies carry their own hash check; this guards every other caller the same way.
 */
import { Transform, type Readable } from 'node:stream';
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
  body.once('error', (err) => guard.destroy(err));
  return body.pipe(guard);
}

function sizeError(key: string, seen: number, size: number): IntegrityError {
  const what = seen > size ? `more than ${size} bytes` : `${seen} bytes, expected ${size}`;
  return new IntegrityError(`${key}: received ${what}`, {
    code: 'ESIZE',
    hint: 'the source of these bytes is truncated or corrupt; nothing was stored',
  });
}
