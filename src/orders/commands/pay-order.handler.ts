import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runOrderCommand } from './run-order-command.js';
import { PayOrderCommand } from './pay-order.command.js';

@CommandHandler(PayOrderCommand)
export class PayOrderHandler implements ICommandHandler<PayOrderCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, paymentId, amount, context }: PayOrderCommand): Promise<MutationResult> {
    return runOrderCommand(this.executor, orderId, context, {
      type: 'PayOrder',
      data: { paymentId, amount },
    });
  }
}
