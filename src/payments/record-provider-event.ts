import { createHash } from 'node:crypto';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RunOrderCommand } from '../orders/commands/order-command.js';
import { canonicalJson } from '../shared/application/canonical-json.js';
import type { Actor } from '../shared/application/command-context.js';
import type { MutationResult } from '../shared/application/mutation-result.js';
import { orderCommandOf, type ProviderEvent } from './provider-event.js';

/** Who acts when the provider reports: a system actor (no token can claim it). */
export const PAYMENT_PROVIDER: Actor = { id: 'payment-provider', roles: ['system'] };

export class RecordProviderEvent extends Command<MutationResult> {
  constructor(
    readonly event: ProviderEvent,
    /** The webhook request's correlation id. */
    readonly correlationId: string,
  ) {
    super();
  }
}

/**
 * Applies a signed provider event to its order exactly once. The provider's event id is the idempotency key
 * (remembered by the order's stream, so also after a restart): the same event delivered again appends nothing
 * and answers the first result. The request hash covers what the event says (type and data), not the bytes
 * of its delivery, so a redelivery re-signed with another timestamp is still recognised.
 */
@CommandHandler(RecordProviderEvent)
export class RecordProviderEventHandler implements ICommandHandler<RecordProviderEvent, MutationResult> {
  constructor(private readonly commands: CommandBus) {}

  async execute({ event, correlationId }: RecordProviderEvent): Promise<MutationResult> {
    const requestHash = createHash('sha256')
      .update(canonicalJson({ type: event.type, data: event.data }))
      .digest('hex');
    const { id, revision, position, replayed } = await this.commands.execute(
      new RunOrderCommand(
        event.data.orderId,
        orderCommandOf(event),
        {
          actor: PAYMENT_PROVIDER,
          correlationId,
          causationId: event.id,
          idempotencyKey: `payment-provider:${event.id}`,
          requestHash,
          expectedRevision: null,
        },
        { providerEventId: event.id, providerEventType: event.type },
      ),
    );
    return { id, revision, position, replayed };
  }
}
