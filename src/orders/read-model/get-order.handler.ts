import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { ordersProjection } from './orders.projection.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import type { FreshnessRead } from '../../shared/application/freshness-read.js';
import { maySee } from '../../shared/application/access-policy.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { orderAggregate } from '../order.aggregate.js';
import { orderView, type OrderView } from './order.view.js';
import { GetOrderQuery } from './get-order.query.js';

/**
 * An order: from the `orders` read model (QP-2, default) or folded from its stream (QP-1, `strong`);
 * the read patterns are defined in docs/architecture.md#read-patterns.
 */
@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery, FreshnessRead<OrderView>> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly cached: ReadModelReader,
  ) {}

  async execute({ orderId, actor, options }: GetOrderQuery): Promise<FreshnessRead<OrderView>> {
    const read =
      options.consistency === 'strong'
        ? await this.strong(orderId).then((found) => found && ReadModelReader.folded(found))
        : await this.cached.read(ordersProjection, orderId, options, () => this.strong(orderId));
    const visible = read && maySee(orderAggregate.access, actor, read.data.customerId);
    if (!read || !visible) throw new ResourceNotFoundError('order', orderId);
    return read;
  }

  private async strong(orderId: string): Promise<{ data: OrderView; revision: bigint } | null> {
    const { state, revision } = await this.aggregates.loadConsistent(orderAggregate, orderId);
    if (state.status === 'none' || revision === 'no_stream') return null;
    return { data: orderView(orderId, state), revision };
  }
}
