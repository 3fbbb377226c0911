/**
 * Collects what arrives during one turn of the event loop (flushed on setImmediate) into batches of at most
 * `maxBatch`, and hands them to `handle` one at a time: the next batch fills up while one is handled.
 */
export class MicroBatcher<T> {
  private queue: T[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly maxBatch: number,
    private readonly handle: (batch: T[]) => Promise<void>,
  ) {}

  push(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    this.schedule();
  }

  /** Forgets queued items (not the batch in flight), e.g. those of a connection that is gone. */
  drop(predicate: (item: T) => boolean): void {
    this.queue = this.queue.filter((item) => !predicate(item));
  }

  get queued(): number {
    return this.queue.length;
  }

  /** No batch after this one; resolves once the batch in flight (if any) is handled. Queued items are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue = [];
    await this.inFlight;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.closed || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight || this.closed) return;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight = this.handle(batch)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = null;
        this.schedule();
      });
  }
}
