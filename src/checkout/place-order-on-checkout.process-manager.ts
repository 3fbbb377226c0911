import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { cartAggregate } from '../carts/cart.aggregate.js';
import type { CartCheckedOut } from '../carts/domain/cart.events.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { AggregateStore } from '../write-path/aggregate-store.js';
import type { DeliveredEvent, DeliveryOutcome } from '../event-store/consumer-groups.port.js';
import { ConsumerRegistry } from '../read-side/runtime/consumer-registry.js';
import type { ManagedConsumer } from '../read-side/runtime/managed-consumer.js';
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
export class PlaceOrderOnCheckout implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PlaceOrderOnCheckout');
  /** Its consumer group, run through the registry so that operators can see, pause and resume it. */
  private readonly consumer: ManagedConsumer;

  constructor(
    private readonly aggregates: AggregateStore,
    private readonly commands: CommandBus,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly consumers: ConsumerRegistry,
    @Optional() private readonly logContext: LogContext = new NoLogContext(),
  ) {
    this.consumer = consumers.register({
      name: PLACE_ORDER_ON_CHECKOUT,
      kind: 'process-manager',
      settings: {
        group: PLACE_ORDER_ON_CHECKOUT_GROUP,
        eventTypes: ['CartCheckedOut'],
        maxRetries: config.readSide.maxRetries,
        batchSize: 64,
      },
      handler: (batch) =>
        Promise.all(
          batch.map((delivered) => {
            // What placing the order logs carries the correlation id of the checkout request.
            const { correlationId } = delivered.event.metadata;
            const id = typeof correlationId === 'string' ? correlationId : delivered.event.id;
            return this.logContext.run(id, () => this.handle(delivered));
          }),
        ),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumers.start(this.consumer.name);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumers.stop(this.consumer.name);
  }

  /** Places the order of one checked-out cart; exposed for tests that redeliver on purpose. */
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
      const metadata = recorded.metadata;
      const context: CommandContext = {
        actor: { id: typeof metadata.actor === 'string' ? metadata.actor : cart.customerId, roles: [] },
        correlationId: typeof metadata.correlationId === 'string' ? metadata.correlationId : recorded.id,
        causationId: recorded.id,
        idempotencyKey: `place-order:${cartId}`,
        requestHash: data.orderId,
        expectedRevision: null,
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
      const reason = `placing the order of cart ${cartId} failed: ${error instanceof Error ? error.message : String(error)}`;
      // A rule violation will not heal by itself: park it for an operator. Anything else may be transient.
      if (error instanceof DomainError) return { action: 'park', reason };
      this.logger.warn(reason);
      return { action: 'retry', reason };
    }
  }
}
