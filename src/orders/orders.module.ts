import { Module } from '@nestjs/common';
import { CancelOrderHandler } from './application/commands/cancel-order/cancel-order.handler.js';
import { DeliverOrderHandler } from './application/commands/deliver-order/deliver-order.handler.js';
import { PayOrderHandler } from './application/commands/pay-order/pay-order.handler.js';
import { PlaceOrderHandler } from './application/commands/place-order/place-order.handler.js';
import { RefundOrderHandler } from './application/commands/refund-order/refund-order.handler.js';
import { ShipOrderHandler } from './application/commands/ship-order/ship-order.handler.js';
import { GetOrderHandler } from './application/queries/get-order/get-order.handler.js';
import { OrdersController } from './http/orders.controller.js';

@Module({
  controllers: [OrdersController],
  providers: [
    PlaceOrderHandler,
    PayOrderHandler,
    ShipOrderHandler,
    DeliverOrderHandler,
    CancelOrderHandler,
    RefundOrderHandler,
    GetOrderHandler,
  ],
})
export class OrdersModule {}
