import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runCartCommand } from './run-cart-command.js';
import { AbandonCartCommand } from './abandon-cart.command.js';

@CommandHandler(AbandonCartCommand)
export class AbandonCartHandler implements ICommandHandler<AbandonCartCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ cartId, reason, context }: AbandonCartCommand): Promise<MutationResult> {
    return runCartCommand(this.executor, cartId, context, { type: 'AbandonCart', data: { reason } });
  }
}
