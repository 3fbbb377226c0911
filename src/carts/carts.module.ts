import { Module } from '@nestjs/common';
import { CartCommandHandler } from './commands/cart-command.js';
import { CartsController } from './http/carts.controller.js';
import { GetCartHandler } from './read-model/get-cart.handler.js';

@Module({
  controllers: [CartsController],
  providers: [CartCommandHandler, GetCartHandler],
})
export class CartsModule {}
