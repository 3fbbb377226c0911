import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandExecutor } from '../../write-path/command-executor.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { runOrderCommand } from './run-order-command.js';
import { ShipOrderCommand } from './ship-order.command.js';

@CommandHandler(ShipOrderCommand)
export class ShipOrderHandler implements ICommandHandler<ShipOrderCommand, MutationResult> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, carrier, trackingNumber, context }: ShipOrderCommand): Promise<MutationResult> {
    return runOrderCommand(this.executor, orderId, context, {
      type: 'ShipOrder',
      data: { carrier, trackingNumber },
    });
  }
}
