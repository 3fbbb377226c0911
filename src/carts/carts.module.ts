import { Module } from '@nestjs/common';
import { AbandonCartHandler } from './application/commands/abandon-cart/abandon-cart.handler.js';
import { AddItemHandler } from './application/commands/add-item/add-item.handler.js';
import { ChangeItemQuantityHandler } from './application/commands/change-item-quantity/change-item-quantity.handler.js';
import { CheckOutCartHandler } from './application/commands/check-out-cart/check-out-cart.handler.js';
import { OpenCartHandler } from './application/commands/open-cart/open-cart.handler.js';
import { RemoveItemHandler } from './application/commands/remove-item/remove-item.handler.js';
import { GetCartHandler } from './application/queries/get-cart/get-cart.handler.js';
import { CartsController } from './http/carts.controller.js';

@Module({
  controllers: [CartsController],
  providers: [
    OpenCartHandler,
    AddItemHandler,
    ChangeItemQuantityHandler,
    RemoveItemHandler,
    CheckOutCartHandler,
    AbandonCartHandler,
    GetCartHandler,
  ],
})
export class CartsModule {}
