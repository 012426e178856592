/**
 * Fixed memory for the small blobs an import stores in batches. A buffer per blob, handed to
 * the writer thread, became garbage there, and an isolate frees ArrayBuffers only when its
 * external memory has grown by tens of MB: at 200,000 blobs that garbage was a good part of the
 * import's peak. Here a batch is gathered in a slot of shared memory that the writer thread
 * reads in place, and the slot is filled again once its batch is stored.
 */
export interface Slot {
  bytes: Buffer;
  /** The batch in it is stored (or failed): the slot may be filled again. */
  release(): void;
}

export class BatchSlots {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((bytes: Buffer) => void)[] = [];
  private made = 0;

  constructor(
    private readonly count: number,
    private readonly size: number,
  ) {}

  /** A slot of `size` bytes; waits while all `count` slots hold batches. */
  async acquire(): Promise<Slot> {
    const bytes =
      this.free.pop() ??
      this.make() ??
      (await new Promise<Buffer>((resolve) => this.waiting.push(resolve)));
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next(bytes);
        else this.free.push(bytes);
      },
    };
  }

  // Made on demand: an import into S3 stores no batches and never needs one.
  private make(): Buffer | undefined {
    if (this.made === this.count) return undefined;
    this.made += 1;
    return Buffer.from(new SharedArrayBuffer(this.size));
  }
}
