import type { DeliveryOutcome } from '../consumer-groups.port.js';

/**
 * What an EventStoreDB consumer group tells the server about the events it handled, as pure functions
 * (unit-tested without a server).
 *
 * How the port's outcomes map onto the server:
 * - `ack` → `ack`.
 * - `park` → `nack(PARK, reason)`. The server prefixes the reason ("Client explicitly NAK'ed message.\n");
 *   `parseParkedReason` takes it off again.
 * - `retry` → `nack(RETRY)` after a backoff (the server retries at once, the port asks for a backoff: the
 *   event stays in flight meanwhile, capped at 10 s, well under the 30 s message timeout). A `retry` of an
 *   event that already had `maxRetries` retries is sent as `nack(PARK, reason)` by this adapter instead of
 *   letting the server park it: the server would park it with its own reason ("Reached retry count of N")
 *   and lose the consumer's. The group's `maxRetryCount` is the same number, so events that time out or
 *   whose connection drops are still parked by the server after as many deliveries.
 * - The parked stream does not record the retry count: the adapter appends it to the reason as a last line
 *   `[retryCount=N]`, and reads it back from there.
 */

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** base × 2^attempt, capped (attempt 0 → base). */
export function backoffMs(attempt: number, { baseMs, maxMs }: Backoff): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}

const SERVER_NAK_PREFIX = "Client explicitly NAK'ed message.\n";
const RETRY_COUNT_LINE = /\n\[retryCount=(\d+)\]$/;
const SERVER_MAX_RETRIES = /^(?:Reached retry count of|Max retry count reached:?) (\d+)/;

/** The reason sent with `nack(PARK)`: the consumer's, plus the retry count the parked stream cannot hold. */
export function parkReason(reason: string, retryCount: number): string {
  return `${reason}\n[retryCount=${retryCount}]`;
}

/** Reason and retry count of a parked event, from the reason the server recorded (0 when it did not say). */
export function parseParkedReason(recorded: string): { reason: string; retryCount: number } {
  let reason = recorded.startsWith(SERVER_NAK_PREFIX) ? recorded.slice(SERVER_NAK_PREFIX.length) : recorded;
  const line = RETRY_COUNT_LINE.exec(reason);
  if (line) {
    reason = reason.slice(0, line.index);
    return { reason, retryCount: Number(line[1]) };
  }
  const serverParked = SERVER_MAX_RETRIES.exec(reason);
  return { reason, retryCount: serverParked ? Number(serverParked[1]) : 0 };
}

export interface SettlementPlan<T> {
  readonly ack: T[];
  /** Parked now, grouped by reason (one nack per reason). */
  readonly park: { readonly reason: string; readonly events: T[] }[];
  /** Retried after `delayMs`, grouped by reason and delay. */
  readonly retry: { readonly reason: string; readonly delayMs: number; readonly events: T[] }[];
}

/** What to tell the server about a handled batch. `items[i]` had outcome `outcomes[i]`. */
export function planSettlement<T>(
  items: readonly { readonly token: T; readonly retryCount: number }[],
  outcomes: readonly DeliveryOutcome[],
  maxRetries: number,
  retryBackoff: Backoff,
): SettlementPlan<T> {
  const plan: SettlementPlan<T> = { ack: [], park: [], retry: [] };
  const park = (reason: string, token: T): void => {
    const group = plan.park.find((g) => g.reason === reason);
    if (group) group.events.push(token);
    else plan.park.push({ reason, events: [token] });
  };
  items.forEach(({ token, retryCount }, i) => {
    const outcome: DeliveryOutcome = outcomes[i] ?? { action: 'retry', reason: 'no outcome' };
    switch (outcome.action) {
      case 'ack':
        plan.ack.push(token);
        return;
      case 'park':
        park(parkReason(outcome.reason, retryCount), token);
        return;
      case 'retry': {
        if (retryCount + 1 > maxRetries) {
          park(parkReason(outcome.reason, retryCount), token);
          return;
        }
        const delayMs = backoffMs(retryCount, retryBackoff);
        const group = plan.retry.find((g) => g.reason === outcome.reason && g.delayMs === delayMs);
        if (group) group.events.push(token);
        else plan.retry.push({ reason: outcome.reason, delayMs, events: [token] });
        return;
      }
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown delivery outcome ${JSON.stringify(unknown)}`);
      }
    }
  });
  return plan;
}
