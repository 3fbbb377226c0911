import type {
  ConsumerGroupSettings,
  DeliveredEvent,
  DeliveryHandler,
  DeliveryOutcome,
} from './consumer-groups.port.js';

/** Rules every consumer-group adapter applies the same way (kept beside the port, not in one adapter). */

/**
 * Runs the handler and answers one outcome per event, whatever the handler does: a handler that throws, or
 * answers the wrong number of outcomes, gets every event of the batch retried (the port's rule for a throw;
 * a miscounted answer is a bug that must not lose or skip events either).
 */
export async function outcomesOf(
  handler: DeliveryHandler,
  batch: readonly DeliveredEvent[],
): Promise<readonly DeliveryOutcome[]> {
  let outcomes: readonly DeliveryOutcome[];
  try {
    outcomes = await handler(batch);
  } catch (error) {
    const reason = `the handler failed: ${error instanceof Error ? error.message : String(error)}`;
    return batch.map(() => ({ action: 'retry', reason }));
  }
  // Checked at run time too: a JavaScript handler may answer anything.
  const answered: unknown = outcomes;
  const count = Array.isArray(answered) ? answered.length : null;
  if (count !== batch.length) {
    const reason = `the handler answered ${count ?? 'no'} outcomes for ${batch.length} events`;
    return batch.map(() => ({ action: 'retry', reason }));
  }
  return outcomes;
}

/** Validates settings the same way in every adapter: a bad setting is a bug of the caller, found at once. */
export function assertValidSettings(settings: ConsumerGroupSettings): void {
  if (!settings.group) throw new RangeError('a consumer group needs a name');
  if (settings.eventTypes.length === 0) throw new RangeError(`group ${settings.group}: no event types`);
  if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1)
    throw new RangeError(`group ${settings.group}: batchSize must be a positive integer`);
  if (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0)
    throw new RangeError(`group ${settings.group}: maxRetries must be an integer ≥ 0`);
}

/**
 * Whether a second subscriber of a group asks for the same group (batch size, retries, event types as a set):
 * subscribers of one group in one process share its delivery loop, so they must agree.
 */
export function sameSettings(a: ConsumerGroupSettings, b: ConsumerGroupSettings): boolean {
  const left = new Set(a.eventTypes);
  const right = new Set(b.eventTypes);
  return (
    a.batchSize === b.batchSize &&
    a.maxRetries === b.maxRetries &&
    left.size === right.size &&
    [...left].every((type) => right.has(type))
  );
}

/** Backoff of retried events: the first redelivery after `baseMs`, doubling up to `maxMs`. */
export interface RetrySchedule {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Delay before redelivering an event that was delivered `retryCount` times before: base × 2^retryCount, capped. */
export function retryDelayMs(retryCount: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(retryCount, 30));
}

/** What settling one handled batch writes, for adapters that keep retries and parked events themselves. */
export interface Settlement {
  /** Events to deliver again: their delivery count so far and the delay before the next one. */
  readonly retries: readonly { position: bigint; retryCount: number; delayMs: number }[];
  /** Events to park, with the reason and the deliveries they had. */
  readonly parks: readonly { position: bigint; reason: string; retryCount: number }[];
  /** Redelivered events that are done with (acknowledged or parked): their pending row goes. */
  readonly unpend: readonly bigint[];
}

/**
 * The port's retry rule, one outcome per event: `ack` settles it; `retry` schedules it again with backoff
 * until `maxRetries` further deliveries have failed, then parks it; `park` parks it at once. `fromPending`:
 * the first events of the batch were redeliveries (they have a pending row).
 */
export function planSettlement(
  events: readonly DeliveredEvent[],
  fromPending: number,
  outcomes: readonly DeliveryOutcome[],
  maxRetries: number,
  schedule: RetrySchedule,
): Settlement {
  const retries: { position: bigint; retryCount: number; delayMs: number }[] = [];
  const parks: { position: bigint; reason: string; retryCount: number }[] = [];
  const unpend: bigint[] = [];
  events.forEach((delivered, i) => {
    const { position } = delivered.event;
    const pending = i < fromPending;
    const outcome: DeliveryOutcome = outcomes[i] ?? { action: 'retry', reason: 'no outcome' };
    switch (outcome.action) {
      case 'ack':
        if (pending) unpend.push(position);
        return;
      case 'retry':
        if (delivered.retryCount + 1 > maxRetries) {
          parks.push({ position, reason: outcome.reason, retryCount: delivered.retryCount });
          if (pending) unpend.push(position);
        } else {
          const delayMs = retryDelayMs(delivered.retryCount, schedule.baseMs, schedule.maxMs);
          retries.push({ position, retryCount: delivered.retryCount + 1, delayMs });
        }
        return;
      case 'park':
        parks.push({ position, reason: outcome.reason, retryCount: delivered.retryCount });
        if (pending) unpend.push(position);
        return;
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown delivery outcome ${JSON.stringify(unknown)}`);
      }
    }
  });
  return { retries, parks, unpend };
}
