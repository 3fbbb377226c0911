import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runCartCommand } from './run-cart-command.js';
import { ChangeItemQuantityCommand } from './change-item-quantity.command.js';

@CommandHandler(ChangeItemQuantityCommand)
export class ChangeItemQuantityHandler implements ICommandHandler<ChangeItemQuantityCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ cartId, sku, quantity, context }: ChangeItemQuantityCommand): Promise<MutationResult> {
    return runCartCommand(this.executor, cartId, context, {
      type: 'ChangeItemQuantity',
      data: { sku, quantity },
    });
  }
}
