import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runOrderCommand } from './run-order-command.js';
import { DeliverOrderCommand } from './deliver-order.command.js';

@CommandHandler(DeliverOrderCommand)
export class DeliverOrderHandler implements ICommandHandler<DeliverOrderCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, context }: DeliverOrderCommand): Promise<MutationResult> {
    return runOrderCommand(this.executor, orderId, context, { type: 'DeliverOrder', data: {} });
  }
}
