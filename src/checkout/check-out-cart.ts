import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RunCartCommand } from '../carts/commands/cart-command.js';
import { CartPricing } from '../carts/commands/cart-pricing.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EventStore } from '../event-store/event-store.port.js';
import { orderAggregate } from '../orders/order.aggregate.js';
import type { CommandContext } from '../shared/application/command-context.js';
import { uuidFromName } from '../shared/application/ids.js';
import type { MutationResult } from '../shared/application/mutation-result.js';
import { streamName } from '../shared/domain/index.js';

export type CheckOutResult = MutationResult & {
  readonly orderId: string;
  /** Whether the order existed when the answer was sent (the process manager places it). */
  readonly orderPlaced: boolean;
};

export class CheckOutCartCommand extends Command<CheckOutResult> {
  constructor(
    readonly cartId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** The order id of a cart: fixed by the cart id, so no retry or redelivery can ever place a second order. */
export function orderIdForCart(cartId: string): string {
  return uuidFromName(`order\n${cartId}`);
}

/**
 * Checks the cart out with the id of its order. The order itself is placed by the checkout process manager
 * (PlaceOrderOnCheckout) reacting to `CartCheckedOut`, which heals a crash between the two appends; the
 * answer waits (up to READ_WAIT_MS) until the order exists so that the client can pay at once, and says
 * whether it does (`orderPlaced`).
 */
@CommandHandler(CheckOutCartCommand)
export class CheckOutCartHandler implements ICommandHandler<CheckOutCartCommand, CheckOutResult> {
  constructor(
    private readonly commands: CommandBus,
    private readonly pricing: CartPricing,
    private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ cartId, context }: CheckOutCartCommand): Promise<CheckOutResult> {
    const orderId = orderIdForCart(cartId);
    // The catalog's prices now, for every line: the order is placed only at the prices the shopper saw.
    const offers = await this.pricing.offersForLines(cartId);
    const { id, revision, position, replayed } = await this.commands.execute(
      new RunCartCommand(cartId, { type: 'CheckOutCart', data: { orderId, offers } }, context),
    );
    const orderPlaced = await this.waitForOrder(orderId);
    return { id, revision, position, replayed, orderId, orderPlaced };
  }

  private async waitForOrder(orderId: string): Promise<boolean> {
    const deadline = Date.now() + this.config.readSide.readWaitMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      if ((await this.events.streamRevision(streamName(orderAggregate.category, orderId))) !== 'no_stream')
        return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, remaining)));
    }
  }
}
