/**
 * Serialises work per key inside one process. Commands on the same stream then never race each other
 * here (so they don't burn optimistic-concurrency retries); optimistic concurrency still guards against
 * other processes.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    this.tails.set(key, current);
    try {
      if (previous) await previous;
      return await work();
    } finally {
      release();
      // Only the last waiter removes the entry, so the map holds keys with work in flight and nothing more.
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }

  get size(): number {
    return this.tails.size;
  }
}
