import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import { randomId, uuidFromName } from '../../shared/application/ids.js';
import { CommandExecutor, type CommandOutcome } from '../../write-path/command-executor.js';
import { cartAggregate } from '../cart.aggregate.js';
import type { CartCommand } from '../domain/cart.commands.js';
import { decideCart } from '../domain/cart.decider.js';
import { CART_EVENT_SCHEMA_VERSION } from '../domain/cart.events.js';
import type { CartState } from '../domain/cart.state.js';
import { CartPricing } from './cart-pricing.js';

/** Any cart command, on the cart it names. */
export class RunCartCommand extends Command<CommandOutcome<CartState>> {
  constructor(
    readonly cartId: string,
    readonly command: CartCommand,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** A retried `POST /carts` must land on the same stream: the cart id derives from the customer and the key. */
export function newCartId(context: CommandContext): string {
  const key = context.idempotencyKey;
  return key === null ? randomId() : uuidFromName(`cart\n${context.actor.id}\n${key}`);
}

/**
 * Every cart command takes the shared write path with the cart's decider. Only the cart's own customer may
 * touch it (cartAggregate's access policy); anybody else gets the same 404 as for a cart that does not exist.
 */
@CommandHandler(RunCartCommand)
export class CartCommandHandler implements ICommandHandler<RunCartCommand, CommandOutcome<CartState>> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ cartId, command, context }: RunCartCommand): Promise<CommandOutcome<CartState>> {
    return this.executor.execute(cartAggregate, cartId, context, {
      commandType: command.type,
      schemaVersion: CART_EVENT_SCHEMA_VERSION,
      creates: command.type === 'OpenCart',
      decide: (state) => decideCart(command, state),
    });
  }
}

/** A shopper adds `quantity` of a catalog product: its name and unit price are the catalog's, now. */
export class AddCatalogItem extends Command<CommandOutcome<CartState>> {
  constructor(
    readonly cartId: string,
    readonly sku: string,
    readonly quantity: number,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(AddCatalogItem)
export class AddCatalogItemHandler implements ICommandHandler<AddCatalogItem, CommandOutcome<CartState>> {
  constructor(
    private readonly commands: CommandBus,
    private readonly pricing: CartPricing,
  ) {}

  async execute({ cartId, sku, quantity, context }: AddCatalogItem): Promise<CommandOutcome<CartState>> {
    const offer = await this.pricing.offerFor(cartId, sku);
    return this.commands.execute(
      new RunCartCommand(cartId, { type: 'AddItem', data: { sku, quantity, offer } }, context),
    );
  }
}

/** The shopper takes the catalog's current prices for the lines whose price moved since they were added. */
export class RepriceCartFromCatalog extends Command<CommandOutcome<CartState>> {
  constructor(
    readonly cartId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(RepriceCartFromCatalog)
export class RepriceCartFromCatalogHandler implements ICommandHandler<
  RepriceCartFromCatalog,
  CommandOutcome<CartState>
> {
  constructor(
    private readonly commands: CommandBus,
    private readonly pricing: CartPricing,
  ) {}

  async execute({ cartId, context }: RepriceCartFromCatalog): Promise<CommandOutcome<CartState>> {
    const offers = await this.pricing.offersForLines(cartId);
    return this.commands.execute(
      new RunCartCommand(cartId, { type: 'RepriceCart', data: { offers } }, context),
    );
  }
}
