import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import { randomId, uuidFromName } from '../../shared/application/ids.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runCartCommand } from './run-cart-command.js';
import { OpenCartCommand } from './open-cart.command.js';

@CommandHandler(OpenCartCommand)
export class OpenCartHandler implements ICommandHandler<OpenCartCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ currency, context }: OpenCartCommand): Promise<MutationResult> {
    // A retried POST /carts must land on the same stream: the cart id derives from the customer and the key.
    const key = context.idempotencyKey;
    const cartId = key === null ? randomId() : uuidFromName(`cart\n${context.actor.id}\n${key}`);
    return runCartCommand(this.executor, cartId, context, {
      type: 'OpenCart',
      data: { cartId, customerId: context.actor.id, currency },
    });
  }
}
