/**
 * The stream a blob's bytes reach its consumer through. The reader pushes slices of the parts
 * as it reads them and waits when the consumer is slow; it ends the stream only after the
 * blob's sha256 matched, and destroys it with the IntegrityError otherwise, so a consumer that
 * commits after a successful pipeline never commits bad bytes.
 */
import { Readable } from 'node:stream';

export class BlobBody extends Readable {
  private demand: (() => void) | undefined;

  constructor() {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _read(): void {
    const resume = this.demand;
    this.demand = undefined;
    resume?.();
  }

  /** Resolves when the consumer asks for more. */
  waitForDemand(): Promise<void> {
    return new Promise((resolve) => {
      this.demand = resolve;
    });
  }
}

/** Tracks the consumer's promise without letting its rejection go unhandled. */
export class ConsumerCall {
  state: 'pending' | 'resolved' | 'rejected' = 'pending';
  error: unknown;
  readonly settled: Promise<void>;

  constructor(promise: Promise<void>) {
    this.settled = promise.then(
      () => {
        this.state = 'resolved';
      },
      (err: unknown) => {
        this.state = 'rejected';
        this.error = err;
      },
    );
  }
}
