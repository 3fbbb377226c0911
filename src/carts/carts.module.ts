import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module.js';
import {
  AddCatalogItemHandler,
  CartCommandHandler,
  RepriceCartFromCatalogHandler,
} from './commands/cart-command.js';
import { CartPricing } from './commands/cart-pricing.js';
import { CartsController } from './http/carts.controller.js';
import { GetCartHandler } from './read-model/get-cart.handler.js';

@Module({
  imports: [CatalogModule],
  controllers: [CartsController],
  providers: [
    CartCommandHandler,
    AddCatalogItemHandler,
    RepriceCartFromCatalogHandler,
    CartPricing,
    GetCartHandler,
  ],
  exports: [CartPricing],
})
export class CartsModule {}
