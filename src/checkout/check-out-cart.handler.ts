import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EventStore } from '../event-store/event-store.port.js';
import { orderAggregate } from '../orders/order.aggregate.js';
import { streamIdFor } from '../write-path/aggregate-store.js';
import { CommandExecutor } from '../write-path/command-executor.js';
import { uuidFromName } from '../shared/application/ids.js';
import { runCartCommand } from '../carts/commands/run-cart-command.js';
import { CheckOutCartCommand, type CheckOutResult } from './check-out-cart.command.js';

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
    private readonly executor: CommandExecutor,
    private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ cartId, context }: CheckOutCartCommand): Promise<CheckOutResult> {
    const checkedOut = await runCartCommand(
      this.executor,
      cartId,
      context,
      { type: 'CheckOutCart', data: { orderId: orderIdForCart(cartId) } },
      (state) => ({ orderId: state.orderId ?? orderIdForCart(cartId) }),
    );
    const orderPlaced = await this.waitForOrder(checkedOut.orderId);
    return { ...checkedOut, orderPlaced };
  }

  private async waitForOrder(orderId: string): Promise<boolean> {
    const deadline = Date.now() + this.config.readSide.readWaitMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      if ((await this.events.streamRevision(streamIdFor(orderAggregate.category, orderId))) !== 'no_stream')
        return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, remaining)));
    }
  }
}
