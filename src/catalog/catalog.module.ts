import { Module } from '@nestjs/common';
import { AggregateProductOffers } from './application/aggregate-product-offers.js';
import { ProductCommandHandler } from './commands/product-command.js';
import { DemoCatalogSeeder } from './demo-catalog.js';
import { CatalogController } from './http/catalog.controller.js';
import { ProductOffers } from './product-offers.js';
import { GetProductHandler } from './read-model/get-product.handler.js';
import { ListProductsHandler } from './read-model/list-products.handler.js';

/**
 * The catalog: products (sku, name, prices by currency) that operators list, reprice and withdraw. Other
 * modules import it for ProductOffers, the port carts take names and prices from.
 */
@Module({
  controllers: [CatalogController],
  providers: [
    ProductCommandHandler,
    GetProductHandler,
    ListProductsHandler,
    { provide: ProductOffers, useClass: AggregateProductOffers },
    DemoCatalogSeeder,
  ],
  exports: [ProductOffers],
})
export class CatalogModule {}
