import { Module } from '@nestjs/common';
import { CartsModule } from '../carts/carts.module.js';
import { CheckOutCartHandler } from './check-out-cart.js';
import { CheckoutController } from './http/checkout.controller.js';
import { PlaceOrderOnCheckout } from './place-order-on-checkout.process-manager.js';

/** Between carts and orders: the checkout command and the process manager that places the order. */
@Module({
  imports: [CartsModule],
  controllers: [CheckoutController],
  providers: [CheckOutCartHandler, PlaceOrderOnCheckout],
})
export class CheckoutModule {}
