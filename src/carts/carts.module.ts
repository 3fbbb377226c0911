import { Module } from '@nestjs/common';
import { AbandonCartHandler } from './commands/abandon-cart.handler.js';
import { AddItemHandler } from './commands/add-item.handler.js';
import { ChangeItemQuantityHandler } from './commands/change-item-quantity.handler.js';
import { CheckOutCartHandler } from '../checkout/check-out-cart.handler.js';
import { OpenCartHandler } from './commands/open-cart.handler.js';
import { RemoveItemHandler } from './commands/remove-item.handler.js';
import { GetCartHandler } from './read-model/get-cart.handler.js';
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
