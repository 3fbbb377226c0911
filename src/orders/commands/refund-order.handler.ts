import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runOrderCommand } from './run-order-command.js';
import { RefundOrderCommand } from './refund-order.command.js';

@CommandHandler(RefundOrderCommand)
export class RefundOrderHandler implements ICommandHandler<RefundOrderCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, amount, context }: RefundOrderCommand): Promise<MutationResult> {
    return runOrderCommand(this.executor, orderId, context, { type: 'RefundOrder', data: { amount } });
  }
}
