import type { CommandContext } from '../../shared/application/command-context.js';
import type { CommandExecutor } from '../../write-path/command-executor.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';
import { decideCart } from '../domain/cart.decider.js';
import type { CartCommand } from '../domain/cart.commands.js';
import { CART_EVENT_SCHEMA_VERSION } from '../domain/cart.events.js';
import type { CartState } from '../domain/cart.state.js';
import { cartAggregate } from '../cart.aggregate.js';

/**
 * Runs one cart command through the shared write path. Only the cart's own customer may touch it; anybody
 * else gets the same 404 as for a cart that does not exist, so nothing leaks.
 */
export async function runCartCommand<Extra extends object = Record<never, never>>(
  executor: CommandExecutor,
  cartId: string,
  context: CommandContext,
  command: CartCommand,
  extra: (state: CartState) => Extra = () => ({}) as Extra,
): Promise<MutationResult & Extra> {
  const outcome = await executor.execute(cartAggregate, cartId, context, {
    commandType: command.type,
    schemaVersion: CART_EVENT_SCHEMA_VERSION,
    authorize: ({ state }) => {
      const creates = command.type === 'OpenCart' && state.status === 'none';
      if (!creates && state.customerId !== context.actor.id) throw new ResourceNotFoundError('cart', cartId);
    },
    decide: (state) => decideCart(command, state),
    result: extra,
  });
  return {
    id: cartId,
    revision: outcome.revision,
    position: outcome.position,
    replayed: outcome.replayed,
    ...outcome.result,
  };
}
