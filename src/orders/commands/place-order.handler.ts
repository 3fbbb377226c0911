import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runOrderCommand } from './run-order-command.js';
import { PlaceOrderCommand } from './place-order.command.js';

@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, order, context }: PlaceOrderCommand): Promise<MutationResult> {
    return runOrderCommand(this.executor, orderId, context, {
      type: 'PlaceOrder',
      data: { orderId, ...order },
    });
  }
}
