import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/roles.decorator.js';
import type { Actor } from '../../shared/application/command-context.js';
import { CurrentActor } from '../../shared/http/command-context.decorator.js';
import { HttpProblem } from '../../shared/http/http-errors.js';
import { instant } from '../../shared/http/read-response.js';
import { SkuPathPipe, UuidPathPipe } from '../../shared/http/validation.js';
import type { AuditedKind } from '../application/audited-aggregates.js';
import { GetDiffQuery, type StateDiff } from '../application/queries/get-diff/get-diff.query.js';
import { GetStateAtQuery } from '../application/queries/get-state-at/get-state-at.query.js';
import type { Point, StateAt } from '../application/time-travel.js';
import { ApiDiffPoints, ApiStatePoint, DiffQueryDto, StateQueryDto } from './audit.dto.js';
import {
  CartDiffDto,
  CartStateDto,
  OrderDiffDto,
  OrderStateDto,
  ProductDiffDto,
  ProductStateDto,
} from './audit.openapi.js';

function exactlyOne(message: string, field: string): HttpProblem {
  return HttpProblem.badRequest('VALIDATION_FAILED', message, { errors: [{ field, message }] });
}

/** A revision or an instant; null when neither is given. Both at once is a 400. */
function pointOf(
  revision: string | undefined,
  asOf: string | undefined,
  [revisionName, asOfName]: [string, string],
): Point | null {
  if (revision !== undefined && asOf !== undefined) {
    throw exactlyOne(`give either ${revisionName} or ${asOfName}, not both`, asOfName);
  }
  if (revision !== undefined) return { revision: BigInt(revision) };
  if (asOf !== undefined) return { asOf: new Date(instant(asOf)) };
  return null;
}

function stateResponse(state: StateAt) {
  return {
    data: state.view,
    meta: { revision: Number(state.revision), at: state.at.toISOString(), source: 'event-store' as const },
  };
}

function diffResponse(diff: StateDiff) {
  return {
    data: {
      from: { revision: Number(diff.from.revision), at: diff.from.at.toISOString() },
      to: { revision: Number(diff.to.revision), at: diff.to.at.toISOString() },
      changes: diff.changes,
      events: diff.events,
    },
    meta: {
      source: 'event-store' as const,
      eventCount: diff.eventCount,
      eventsTruncated: diff.events.length < diff.eventCount,
    },
  };
}

const cartId = new UuidPathPipe('cart');
const orderId = new UuidPathPipe('order');
const productSku = new SkuPathPipe('product');

/**
 * Time travel on carts, orders and products: `GET /carts/:id/state`, `/carts/:id/diff` and the same for
 * orders and for `/catalog/products/:sku`. Paths of their own (a static segment after the id), so
 * `GET /carts/:id` is untouched. The owner, operators and auditors may ask; another shopper gets the 404 an
 * unknown id gets. Products have no owner: the catalog is open to every role.
 */
@ApiTags('audit')
@Controller()
@Roles('shopper', 'operator', 'auditor')
export class TimeTravelController {
  constructor(private readonly queries: QueryBus) {}

  @Get('carts/:id/state')
  @ApiStatePoint()
  @ApiOperation({ summary: 'A cart as it was at a revision or an instant, folded from its events' })
  @ApiOkResponse({ type: CartStateDto, description: 'The cart at that point, with the revision it reflects' })
  async cartState(
    @Param('id', cartId) id: string,
    @Query() query: StateQueryDto,
    @CurrentActor() actor: Actor,
  ) {
    return this.state('cart', id, query, actor);
  }

  @Get('carts/:id/diff')
  @ApiDiffPoints()
  @ApiOperation({
    summary: 'What changed in a cart between two points, field by field, with the events between',
  })
  @ApiOkResponse({ type: CartDiffDto, description: 'The changes and the events' })
  async cartDiff(
    @Param('id', cartId) id: string,
    @Query() query: DiffQueryDto,
    @CurrentActor() actor: Actor,
  ) {
    return this.diff('cart', id, query, actor);
  }

  @Get('orders/:id/state')
  @ApiStatePoint()
  @ApiOperation({ summary: 'An order as it was at a revision or an instant, folded from its events' })
  @ApiOkResponse({
    type: OrderStateDto,
    description: 'The order at that point, with the revision it reflects',
  })
  async orderState(
    @Param('id', orderId) id: string,
    @Query() query: StateQueryDto,
    @CurrentActor() actor: Actor,
  ) {
    return this.state('order', id, query, actor);
  }

  @Get('orders/:id/diff')
  @ApiDiffPoints()
  @ApiOperation({
    summary: 'What changed in an order between two points, field by field, with the events between',
  })
  @ApiOkResponse({ type: OrderDiffDto, description: 'The changes and the events' })
  async orderDiff(
    @Param('id', orderId) id: string,
    @Query() query: DiffQueryDto,
    @CurrentActor() actor: Actor,
  ) {
    return this.diff('order', id, query, actor);
  }

  @Get('catalog/products/:sku/state')
  @ApiStatePoint()
  @ApiOperation({ summary: 'A product as it was at a revision or an instant, folded from its events' })
  @ApiOkResponse({
    type: ProductStateDto,
    description: 'The product at that point, with the revision it reflects',
  })
  async productState(
    @Param('sku', productSku) sku: string,
    @Query() query: StateQueryDto,
    @CurrentActor() actor: Actor,
  ) {
    return this.state('product', sku, query, actor);
  }

  @Get('catalog/products/:sku/diff')
  @ApiDiffPoints()
  @ApiOperation({
    summary: 'What changed in a product between two points, field by field, with the events between',
  })
  @ApiOkResponse({ type: ProductDiffDto, description: 'The changes and the events' })
  async productDiff(
    @Param('sku', productSku) sku: string,
    @Query() query: DiffQueryDto,
    @CurrentActor() actor: Actor,
  ) {
    return this.diff('product', sku, query, actor);
  }

  private async state(kind: AuditedKind, id: string, query: StateQueryDto, actor: Actor) {
    const point = pointOf(query.atRevision, query.asOf, ['atRevision', 'asOf']);
    if (point === null) throw exactlyOne('give atRevision or asOf', 'atRevision');
    return stateResponse(await this.queries.execute(new GetStateAtQuery(kind, id, actor, point)));
  }

  private async diff(kind: AuditedKind, id: string, query: DiffQueryDto, actor: Actor) {
    const from = pointOf(query.from, query.fromAsOf, ['from', 'fromAsOf']);
    const to = pointOf(query.to, query.toAsOf, ['to', 'toAsOf']);
    if (from === null) throw exactlyOne('give from (a revision) or fromAsOf (an instant)', 'from');
    return diffResponse(await this.queries.execute(new GetDiffQuery(kind, id, actor, from, to)));
  }
}
