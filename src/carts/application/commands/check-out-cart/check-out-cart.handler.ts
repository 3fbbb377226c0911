import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../../../shared/application/command-executor.js';
import { uuidFromName } from '../../../../shared/application/ids.js';
import { DomainError } from '../../../../shared/domain/index.js';
import { PlaceOrderCommand } from '../../../../orders/application/commands/place-order/place-order.command.js';
import type { CartState } from '../../../domain/cart.state.js';
import { runCartCommand } from '../../run-cart-command.js';
import { CheckOutCartCommand, type CheckOutResult } from './check-out-cart.command.js';

/** The order id of a cart: fixed by the cart id, so no retry or redelivery can ever place a second order. */
export function orderIdForCart(cartId: string): string {
  return uuidFromName(`order\n${cartId}`);
}

/**
 * Checks the cart out, then places its order. Placing is idempotent (deterministic order id, no-stream
 * append, a fixed idempotency key), so a retried checkout — even one that crashed between the two
 * appends — completes the order exactly once.
 */
@CommandHandler(CheckOutCartCommand)
export class CheckOutCartHandler implements ICommandHandler<CheckOutCartCommand, CheckOutResult> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly commands: CommandBus,
  ) {}

  async execute({ cartId, context }: CheckOutCartCommand): Promise<CheckOutResult> {
    let cart: CartState | undefined;
    const checkedOut = await runCartCommand(
      this.executor,
      cartId,
      context,
      { type: 'CheckOutCart', data: { orderId: orderIdForCart(cartId) } },
      (state) => {
        cart = state;
        return { orderId: state.orderId ?? orderIdForCart(cartId) };
      },
    );
    if (cart?.customerId && cart.currency) await this.placeOrder(checkedOut.orderId, cartId, cart, context);
    return checkedOut;
  }

  private async placeOrder(
    orderId: string,
    cartId: string,
    cart: CartState,
    context: CheckOutCartCommand['context'],
  ): Promise<void> {
    const order = {
      cartId,
      customerId: cart.customerId!,
      currency: cart.currency!,
      lines: cart.lines.map(({ sku, name, quantity, unitPrice }) => ({ sku, name, quantity, unitPrice })),
    };
    const placeContext = {
      ...context,
      idempotencyKey: `place-order:${cartId}`,
      requestHash: orderId,
      expectedRevision: null,
    };
    try {
      await this.commands.execute(new PlaceOrderCommand(orderId, order, placeContext));
    } catch (error) {
      // Placed by an earlier attempt whose key has since left the idempotency memory: already done.
      if (!(error instanceof DomainError && error.code === 'ORDER_ALREADY_PLACED')) throw error;
    }
  }
}
