import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { ReadStore } from '../../read-side/read-store.port.js';
import { LiveGenerations } from '../../read-side/runtime/live-generations.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { canSee } from '../../write-path/aggregate-type.js';
import { orderAggregate } from '../order.aggregate.js';
import { GetOrderTimelineQuery } from './get-order-timeline.query.js';
import { timelinePage, type TimelinePage } from './timeline-page.js';

/** The human-readable history of one order (the `order_timeline` read model). */
@QueryHandler(GetOrderTimelineQuery)
export class GetOrderTimelineHandler implements IQueryHandler<GetOrderTimelineQuery, TimelinePage> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly generations: LiveGenerations,
    private readonly store: ReadStore,
    private readonly reader: ReadModelReader,
  ) {}

  async execute({ orderId, actor, limit, cursor, maxStaleMs }: GetOrderTimelineQuery): Promise<TimelinePage> {
    // Existence and ownership come from the source of truth, so a lagging projection never hides an order.
    const { state } = await this.aggregates.loadConsistent(orderAggregate, orderId);
    if (!canSee(orderAggregate, actor, state)) throw new ResourceNotFoundError('order', orderId);
    return timelinePage(
      this.reader,
      this.generations,
      this.store,
      { orderId },
      { limit, cursor, maxStaleMs },
    );
  }
}
