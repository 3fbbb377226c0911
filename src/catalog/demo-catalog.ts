import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { CommandContext } from '../shared/application/command-context.js';
import { randomId } from '../shared/application/ids.js';
import { AggregateStore } from '../write-path/aggregate-store.js';
import { ProductCommandHandler, RunProductCommand } from './commands/product-command.js';
import type { ListProduct } from './domain/product.commands.js';
import { productAggregate } from './product.aggregate.js';

/** A small catalog to try the service with (`npm run start:dev`); prices in cents. */
export const DEMO_CATALOG: readonly ListProduct['data'][] = [
  { sku: 'espresso-beans-1kg', name: 'Espresso beans, 1 kg', prices: { EUR: 1890, USD: 2090 } },
  { sku: 'filter-coffee-250g', name: 'Filter coffee, 250 g', prices: { EUR: 790, USD: 890 } },
  { sku: 'paper-filters-100', name: 'Paper filters, pack of 100', prices: { EUR: 490, USD: 550 } },
  { sku: 'pour-over-dripper', name: 'Ceramic pour-over dripper', prices: { EUR: 2450, USD: 2690 } },
  { sku: 'gooseneck-kettle', name: 'Gooseneck kettle, 1 l', prices: { EUR: 4500, USD: 4900 } },
  { sku: 'hand-grinder', name: 'Hand burr grinder', prices: { EUR: 6900, USD: 7490 } },
  { sku: 'coffee-scale', name: 'Coffee scale with timer', prices: { EUR: 2990, USD: 3290 } },
  { sku: 'travel-mug-350', name: 'Insulated travel mug, 350 ml', prices: { EUR: 2200, USD: 2400 } },
];

/** Who lists the demo catalog: an operator of the service's own (recorded as the events' actor). */
const SEEDER = { id: 'demo-catalog', roles: ['operator'] } as const;

/**
 * In development only (NODE_ENV=development, i.e. `npm run start:dev`): lists the demo catalog at start
 * where a sku has never been listed. A sku that exists (listed, repriced or withdrawn since) is left as it
 * is, and each listing carries a fixed idempotency key, so restarts — and instances starting together —
 * never fail nor list anything twice.
 */
@Injectable()
export class DemoCatalogSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('Catalog');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly aggregates: AggregateStore,
    // The handler itself, not the command bus: handlers join the bus at bootstrap too, in no set order.
    private readonly products: ProductCommandHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.nodeEnv !== 'development') return;
    try {
      let listed = 0;
      for (const product of DEMO_CATALOG) {
        const { state } = await this.aggregates.loadConsistent(productAggregate, product.sku);
        if (productAggregate.exists(state)) continue;
        const command = new RunProductCommand(
          product.sku,
          { type: 'ListProduct', data: product },
          context(product),
        );
        if (!(await this.products.execute(command)).replayed) listed++;
      }
      this.logger.log(
        `Demo catalog (development only): ${listed} products listed, ${DEMO_CATALOG.length - listed} found already there`,
      );
    } catch (error) {
      // A demo must never keep the service from starting.
      this.logger.warn(`Demo catalog not seeded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function context(product: ListProduct['data']): CommandContext {
  return {
    actor: SEEDER,
    correlationId: 'demo-catalog',
    causationId: randomId(),
    idempotencyKey: `demo-catalog:${product.sku}`,
    requestHash: createHash('sha256').update(JSON.stringify(product)).digest('base64url'),
    expectedRevision: null,
  };
}
