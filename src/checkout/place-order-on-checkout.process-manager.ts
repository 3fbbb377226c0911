import { Inject, Injectable, Optional } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { cartAggregate } from '../carts/cart.aggregate.js';
import type { CartCheckedOut } from '../carts/domain/cart.events.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AggregateStore } from '../write-path/aggregate-store.js';
import type { DeliveredEvent, DeliveryOutcome } from '../event-store/consumer-groups.port.js';
import { ConsumerRegistry } from '../read-side/runtime/consumer-registry.js';
import { causedBy, ProcessManager } from '../read-side/runtime/process-manager.js';
import type { CommandContext } from '../shared/application/command-context.js';
import { LogContext, NoLogContext } from '../shared/application/log-context.js';
import { DomainError, idInCategory } from '../shared/domain/index.js';
import { RunOrderCommand } from '../orders/commands/order-command.js';

export const PLACE_ORDER_ON_CHECKOUT_GROUP = 'process-place-order-on-checkout';
/** Its name for operators (`/admin/projections`, pause/resume, parked events). */
export const PLACE_ORDER_ON_CHECKOUT = 'place-order-on-checkout';

/**
 * The checkout process manager: reacts to `CartCheckedOut` (through a durable consumer group) by placing the
 * order with the id chosen at checkout. Placing appends to a new stream with a no-stream expectation and a
 * fixed idempotency key, so a redelivered event — or a crash between the checkout and the placing — can
 * never produce a second order; the redelivery simply finishes the job.
 */
@Injectable()
export class PlaceOrderOnCheckout extends ProcessManager {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) config: AppConfig,
    consumers: ConsumerRegistry,
    @Optional() logContext: LogContext = new NoLogContext(),
  ) {
    super(
      consumers,
      {
        name: PLACE_ORDER_ON_CHECKOUT,
        group: PLACE_ORDER_ON_CHECKOUT_GROUP,
        eventTypes: ['CartCheckedOut'],
        maxRetries: config.readSide.maxRetries,
      },
      logContext,
    );
  }

  /** Places the order of one checked-out cart. */
  async handle({ event: recorded }: DeliveredEvent): Promise<DeliveryOutcome> {
    const cartId = idInCategory(cartAggregate.category, recorded.streamId);
    if (cartId === null) return { action: 'ack' };
    try {
      const { data } = cartAggregate.toDomainEvent(recorded) as CartCheckedOut;
      // A checked-out cart never changes again, so its current state is its state at checkout.
      const { state: cart } = await this.aggregates.loadConsistent(cartAggregate, cartId);
      if (cart.status !== 'checked-out' || !cart.customerId || !cart.currency) {
        return { action: 'park', reason: `cart ${cartId} is ${cart.status}, not checked out` };
      }
      const { actor } = recorded.metadata;
      const context: CommandContext = {
        ...causedBy(
          recorded,
          { id: typeof actor === 'string' ? actor : cart.customerId, roles: [] },
          `place-order:${cartId}`,
        ),
        requestHash: data.orderId,
      };
      const order = {
        orderId: data.orderId,
        cartId,
        customerId: cart.customerId,
        currency: cart.currency,
        lines: cart.lines.map(({ sku, name, quantity, unitPrice }) => ({ sku, name, quantity, unitPrice })),
      };
      await this.commands.execute(
        new RunOrderCommand(data.orderId, { type: 'PlaceOrder', data: order }, context),
      );
      return { action: 'ack' };
    } catch (error) {
      // Placed by an earlier delivery whose key has since left the idempotency memory: already done.
      if (error instanceof DomainError && error.code === 'ORDER_ALREADY_PLACED') return { action: 'ack' };
      return this.failed(`placing the order of cart ${cartId}`, error);
    }
  }
}
