import { Body, Controller, Query, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RefuseOthersWith, Roles } from '../../auth/roles.decorator.js';
import type { Actor, CommandContext } from '../../shared/application/command-context.js';
import { CommandCtx, CurrentActor } from '../../shared/http/command-context.decorator.js';
import { mutationResponse } from '../../shared/http/mutation-response.js';
import { AGE_HEADER, ApiMutation, ApiRead } from '../../shared/http/openapi.js';
import {
  CachedPageQueryDto,
  freshnessResponse,
  instant,
  listResponse,
  page,
  ReadQueryDto,
  readOptions,
} from '../../shared/http/read-response.js';
import { maxStaleMs } from '../../shared/http/max-stale.js';
import { GetOrderTimelineQuery } from '../read-model/get-order-timeline.query.js';
import { ListOrdersQuery, type OrderFilters } from '../read-model/list-orders.query.js';
import { EmptyBodyPipe, UuidPathPipe } from '../../shared/http/validation.js';
import { RunOrderCommand } from '../commands/order-command.js';
import type { OrderCommand } from '../domain/order.commands.js';
import { GetOrderQuery } from '../read-model/get-order.query.js';
import {
  CancelOrderDto,
  ListOrdersDto,
  OrderPageDto,
  OrderReadDto,
  ManualPaymentDto,
  RefundOrderDto,
  ShipOrderDto,
  TimelinePageDto,
} from './order.dto.js';

const orderId = new UuidPathPipe('order');

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({ summary: 'Search orders (a shopper: only their own), keyset-paginated' })
  @ApiOkResponse({
    type: OrderPageDto,
    description: 'A page of orders, newest first by default',
    headers: AGE_HEADER,
  })
  async list(
    @Query() query: ListOrdersDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { limit, cursor } = page(query);
    const filters: OrderFilters = {
      ...(query.status !== undefined && { status: query.status }),
      ...(query.from !== undefined && { from: instant(query.from) }),
      ...(query.to !== undefined && { to: instant(query.to) }),
      ...(query.minTotal !== undefined && { minTotal: Number(query.minTotal) }),
      ...(query.maxTotal !== undefined && { maxTotal: Number(query.maxTotal) }),
      ...(query.sku !== undefined && { sku: query.sku }),
      ...(query.refund !== undefined && { refund: query.refund }),
      ...(query.paymentException !== undefined && {
        paymentException: query.paymentException === 'true',
      }),
      ...(query.customerId !== undefined && { customerId: query.customerId }),
    };
    const maxStale = maxStaleMs(cacheControl, query.maxStaleMs);
    return listResponse(
      reply,
      await this.queries.execute(
        new ListOrdersQuery(actor, filters, query.sort ?? '-createdAt', limit, cursor, maxStale),
      ),
    );
  }

  @Get(':id/timeline')
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({ summary: "An order's events, oldest first" })
  @ApiOkResponse({
    type: TimelinePageDto,
    description: "A page of the order's timeline",
    headers: AGE_HEADER,
  })
  async timeline(
    @Param('id', orderId) id: string,
    @Query() query: CachedPageQueryDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { limit, cursor } = page(query);
    const maxStale = maxStaleMs(cacheControl, query.maxStaleMs);
    return listResponse(
      reply,
      await this.queries.execute(new GetOrderTimelineQuery(id, actor, limit, cursor, maxStale)),
    );
  }

  @Get(':id')
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({ summary: 'An order (its owner, operators, auditors)' })
  @ApiRead(OrderReadDto)
  async get(
    @Param('id', orderId) id: string,
    @Query() query: ReadQueryDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return freshnessResponse(
      reply,
      await this.queries.execute(new GetOrderQuery(id, actor, readOptions(query, cacheControl))),
    );
  }

  @Post(':id/payments')
  @Roles('operator')
  @RefuseOthersWith({
    code: 'PAYMENT_BY_PROVIDER_ONLY',
    detail:
      'Payments are confirmed by the payment provider (a signed POST /webhooks/payments), never recorded by a ' +
      'shopper: pay through the provider. Operators may record a manual payment here, with a reason.',
  })
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Record a manual payment (operators, with a reason; audited). Shoppers pay through the payment provider',
  })
  @ApiMutation()
  async recordManualPayment(
    @Param('id', orderId) id: string,
    @Body() body: ManualPaymentDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { paymentId, amount, currency, reason } = body;
    const payment: OrderCommand = { type: 'RecordPayment', data: { paymentId, amount, currency } };
    return mutationResponse(
      reply,
      await this.commands.execute(
        new RunOrderCommand(id, payment, ctx, { manualPayment: true, reason: reason.trim() }),
      ),
    );
  }

  @Post(':id/shipments')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ship a paid order' })
  @ApiMutation()
  async ship(
    @Param('id', orderId) id: string,
    @Body() body: ShipOrderDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const shipment = { carrier: body.carrier.trim(), trackingNumber: body.trackingNumber };
    return mutationResponse(reply, await this.run(id, { type: 'ShipOrder', data: shipment }, ctx));
  }

  @Post(':id/delivery')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a shipped order delivered' })
  @ApiMutation()
  async deliver(
    @Param('id', orderId) id: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(reply, await this.run(id, { type: 'DeliverOrder', data: {} }, ctx));
  }

  @Post(':id/refunds')
  @Roles('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Refund (part of) the payment' })
  @ApiMutation()
  async refund(
    @Param('id', orderId) id: string,
    @Body() body: RefundOrderDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(
      reply,
      await this.run(id, { type: 'RefundOrder', data: { amount: body.amount } }, ctx),
    );
  }

  @Post(':id/cancellation')
  @Roles('shopper', 'operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel the order (its owner before shipping, or an operator)' })
  @ApiMutation()
  async cancel(
    @Param('id', orderId) id: string,
    @Body() body: CancelOrderDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(
      reply,
      await this.run(id, { type: 'CancelOrder', data: { reason: body.reason.trim() } }, ctx),
    );
  }

  private run(id: string, command: OrderCommand, ctx: CommandContext) {
    return this.commands.execute(new RunOrderCommand(id, command, ctx));
  }
}
