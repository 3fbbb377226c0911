import { hasRole, type CommandContext } from '../../shared/application/command-context.js';
import type { CommandExecutor } from '../../write-path/command-executor.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { decideOrder } from '../domain/order.decider.js';
import type { OrderCommand } from '../domain/order.commands.js';
import { ORDER_EVENT_SCHEMA_VERSION } from '../domain/order.events.js';
import { orderAggregate } from '../order.aggregate.js';

/**
 * Runs one order command through the shared write path. Operators may act on any order; a shopper only on
 * their own — anybody else gets the same 404 as for an order that does not exist.
 */
export async function runOrderCommand(
  executor: CommandExecutor,
  orderId: string,
  context: CommandContext,
  command: OrderCommand,
): Promise<MutationResult> {
  const outcome = await executor.execute(orderAggregate, orderId, context, {
    commandType: command.type,
    schemaVersion: ORDER_EVENT_SCHEMA_VERSION,
    authorize: ({ state }) => {
      if (command.type === 'PlaceOrder') return;
      const visible =
        state.status !== 'none' &&
        (hasRole(context.actor, 'operator') || state.customerId === context.actor.id);
      if (!visible) throw new ResourceNotFoundError('order', orderId);
    },
    decide: (state) => decideOrder(command, state),
    result: () => ({}),
  });
  return { id: orderId, revision: outcome.revision, position: outcome.position, replayed: outcome.replayed };
}
