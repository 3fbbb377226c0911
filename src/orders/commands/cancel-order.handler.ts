import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runOrderCommand } from './run-order-command.js';
import { CancelOrderCommand } from './cancel-order.command.js';

@CommandHandler(CancelOrderCommand)
export class CancelOrderHandler implements ICommandHandler<CancelOrderCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, reason, context }: CancelOrderCommand): Promise<MutationResult> {
    return runOrderCommand(this.executor, orderId, context, { type: 'CancelOrder', data: { reason } });
  }
}
