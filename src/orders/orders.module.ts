import { Module } from '@nestjs/common';
import { OrderCommandHandler } from './commands/order-command.js';
import { CustomersController } from './http/customers.controller.js';
import { OrdersController } from './http/orders.controller.js';
import { GetCustomerTimelineHandler } from './read-model/get-customer-timeline.handler.js';
import { GetOrderTimelineHandler } from './read-model/get-order-timeline.handler.js';
import { GetOrderHandler } from './read-model/get-order.handler.js';
import { ListOrdersHandler } from './read-model/list-orders.handler.js';
import { RefundOnCancellation } from './refunds/refund-on-cancellation.process-manager.js';

@Module({
  controllers: [OrdersController, CustomersController],
  providers: [
    OrderCommandHandler,
    GetOrderHandler,
    ListOrdersHandler,
    GetOrderTimelineHandler,
    GetCustomerTimelineHandler,
    RefundOnCancellation,
  ],
})
export class OrdersModule {}
