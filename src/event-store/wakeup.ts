/**
 * How a delivery loop waits without polling its store: until it is woken (an append, a replayed parked event,
 * a lease change, a stop) or a deadline passes, with no timer at all when there is no deadline. Its backoff
 * after a failure is separate: only a stop cuts that short, never an append. Shared by the embedded and the
 * PostgreSQL consumer groups.
 */
export class Wakeup {
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | undefined;
  private interruptBackoff: (() => void) | null = null;

  /** Resolves on `ring()` or at `at` (epoch ms; Infinity: on `ring()` only). */
  at(at: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (at !== Number.POSITIVE_INFINITY) {
        this.timer = setTimeout(() => this.ring(), Math.max(0, at - Date.now()));
        // The application's servers keep the process alive, not an idle consumer's retry timer.
        this.timer.unref();
      }
    });
  }

  /** Ends the wait in progress, if any. */
  ring(): void {
    this.clearTimer();
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Waits `ms`, unless `interrupt()` comes first. */
  backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.interruptBackoff = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.interruptBackoff = null;
    });
  }

  interrupt(): void {
    this.interruptBackoff?.();
  }

  clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
