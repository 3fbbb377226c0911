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
