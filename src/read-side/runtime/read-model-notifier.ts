import { EventEmitter } from 'node:events';

/**
 * In-process signal "projection P has written document D at revision R", so that a read waiting for its
 * own write (`?minRevision=`) answers as soon as the projection gets there instead of on the next poll.
 * Other service instances do not hear it; readers fall back to polling the read store (see waitFor).
 */
export class ReadModelNotifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per waiting request: many may wait at once.
    this.emitter.setMaxListeners(0);
  }

  applied(projection: string, id: string, revision: bigint): void {
    this.emitter.emit(`${projection}\n${id}`, revision);
  }

  /**
   * Resolves with the first value `read` gives that `satisfied` accepts, re-reading on every in-process
   * notification for the document and at least every `pollMs`; after `timeoutMs` resolves with the last
   * value read (the caller then says the answer is stale).
   */
  async waitFor<T>(
    projection: string,
    id: string,
    options: { timeoutMs: number; pollMs?: number },
    read: () => Promise<T>,
    satisfied: (value: T) => boolean,
  ): Promise<T> {
    let value = await read();
    if (satisfied(value) || options.timeoutMs <= 0) return value;
    const deadline = Date.now() + options.timeoutMs;
    const pollMs = options.pollMs ?? 50;
    const key = `${projection}\n${id}`;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return value;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.emitter.off(key, done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(pollMs, remaining));
        this.emitter.on(key, done);
      });
      value = await read();
      if (satisfied(value)) return value;
    }
  }
}
