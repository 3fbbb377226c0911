import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { JsonObject } from '../../event-store/event-store.port.js';
import type { CommandContext } from '../../shared/application/command-context.js';
import { CommandExecutor, type CommandOutcome } from '../../write-path/command-executor.js';
import type { OrderCommand } from '../domain/order.commands.js';
import { decideOrder } from '../domain/order.decider.js';
import { ORDER_EVENT_SCHEMA_VERSION } from '../domain/order.events.js';
import type { OrderState } from '../domain/order.state.js';
import { orderAggregate } from '../order.aggregate.js';

/** Any order command, on the order it names. */
export class RunOrderCommand extends Command<CommandOutcome<OrderState>> {
  constructor(
    readonly orderId: string,
    readonly command: OrderCommand,
    readonly context: CommandContext,
    /** Recorded in the events' metadata (the provider's event id, a manual payment's reason). */
    readonly metadata?: JsonObject,
  ) {
    super();
  }
}

/**
 * Every order command takes the shared write path with the order's decider. Operators may act on any order,
 * a shopper only on their own (orderAggregate's access policy; which role may send which command is the
 * routes' business) — anybody else gets the same 404 as for an order that does not exist.
 */
@CommandHandler(RunOrderCommand)
export class OrderCommandHandler implements ICommandHandler<RunOrderCommand, CommandOutcome<OrderState>> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ orderId, command, context, metadata }: RunOrderCommand): Promise<CommandOutcome<OrderState>> {
    return this.executor.execute(orderAggregate, orderId, context, {
      commandType: command.type,
      schemaVersion: ORDER_EVENT_SCHEMA_VERSION,
      creates: command.type === 'PlaceOrder',
      decide: (state) => decideOrder(command, state),
      ...(metadata && { metadata }),
    });
  }
}
