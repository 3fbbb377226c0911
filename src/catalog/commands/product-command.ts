import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import { CommandExecutor, type CommandOutcome } from '../../write-path/command-executor.js';
import type { ProductCommand } from '../domain/product.commands.js';
import { decideProduct } from '../domain/product.decider.js';
import { PRODUCT_EVENT_SCHEMA_VERSION } from '../domain/product.events.js';
import type { ProductState } from '../domain/product.state.js';
import { productAggregate } from '../product.aggregate.js';

/** Any product command, on the product (sku) it names. */
export class RunProductCommand extends Command<CommandOutcome<ProductState>> {
  constructor(
    readonly sku: string,
    readonly command: ProductCommand,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * Every product command takes the shared write path with the product's decider. Only operators change the
 * catalog (productAggregate's access policy): a product is listed only by an actor allowed to change it.
 */
@CommandHandler(RunProductCommand)
export class ProductCommandHandler implements ICommandHandler<
  RunProductCommand,
  CommandOutcome<ProductState>
> {
  constructor(private readonly executor: CommandExecutor) {}

  execute({ sku, command, context }: RunProductCommand): Promise<CommandOutcome<ProductState>> {
    return this.executor.execute(productAggregate, sku, context, {
      commandType: command.type,
      schemaVersion: PRODUCT_EVENT_SCHEMA_VERSION,
      creates: command.type === 'ListProduct',
      decide: (state) => decideProduct(command, state),
    });
  }
}
