import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runCartCommand } from './run-cart-command.js';
import { RemoveItemCommand } from './remove-item.command.js';

@CommandHandler(RemoveItemCommand)
export class RemoveItemHandler implements ICommandHandler<RemoveItemCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ cartId, sku, context }: RemoveItemCommand): Promise<MutationResult> {
    return runCartCommand(this.executor, cartId, context, { type: 'RemoveItem', data: { sku } });
  }
}
