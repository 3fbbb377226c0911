import { Module } from '@nestjs/common';
import { CancelOrderHandler } from './commands/cancel-order.handler.js';
import { DeliverOrderHandler } from './commands/deliver-order.handler.js';
import { PayOrderHandler } from './commands/pay-order.handler.js';
import { PlaceOrderHandler } from './commands/place-order.handler.js';
import { RefundOrderHandler } from './commands/refund-order.handler.js';
import { ShipOrderHandler } from './commands/ship-order.handler.js';
import { GetOrderHandler } from './read-model/get-order.handler.js';
import { PlaceOrderOnCheckout } from '../checkout/place-order-on-checkout.process-manager.js';
import { GetCustomerTimelineHandler } from './read-model/get-customer-timeline.handler.js';
import { GetOrderTimelineHandler } from './read-model/get-order-timeline.handler.js';
import { ListOrdersHandler } from './read-model/list-orders.handler.js';
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
