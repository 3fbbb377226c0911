import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runCartCommand } from './run-cart-command.js';
import { AddItemCommand } from './add-item.command.js';

@CommandHandler(AddItemCommand)
export class AddItemHandler implements ICommandHandler<AddItemCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ cartId, item, context }: AddItemCommand): Promise<MutationResult> {
    return runCartCommand(this.executor, cartId, context, { type: 'AddItem', data: { ...item } });
  }
}
