import { Module } from '@nestjs/common';
import { CancelOrderHandler } from './application/commands/cancel-order/cancel-order.handler.js';
import { DeliverOrderHandler } from './application/commands/deliver-order/deliver-order.handler.js';
import { PayOrderHandler } from './application/commands/pay-order/pay-order.handler.js';
import { PlaceOrderHandler } from './application/commands/place-order/place-order.handler.js';
import { RefundOrderHandler } from './application/commands/refund-order/refund-order.handler.js';
import { ShipOrderHandler } from './application/commands/ship-order/ship-order.handler.js';
import { GetOrderHandler } from './application/queries/get-order/get-order.handler.js';
import { PlaceOrderOnCheckout } from './application/place-order-on-checkout/place-order-on-checkout.process-manager.js';
import { GetCustomerTimelineHandler } from './application/queries/get-customer-timeline/get-customer-timeline.handler.js';
import { GetOrderTimelineHandler } from './application/queries/get-order-timeline/get-order-timeline.handler.js';
import { ListOrdersHandler } from './application/queries/list-orders/list-orders.handler.js';
import { CustomersController } from './http/customers.controller.js';
import { OrdersController } from './http/orders.controller.js';

@Module({
  controllers: [OrdersController, CustomersController],
  providers: [
    PlaceOrderHandler,
    PayOrderHandler,
    ShipOrderHandler,
    DeliverOrderHandler,
    CancelOrderHandler,
    RefundOrderHandler,
    GetOrderHandler,
    ListOrdersHandler,
    GetOrderTimelineHandler,
    GetCustomerTimelineHandler,
    PlaceOrderOnCheckout,
  ],
})
export class OrdersModule {}
