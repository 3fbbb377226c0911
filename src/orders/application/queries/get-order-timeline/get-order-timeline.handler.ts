import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../../../event-store/aggregate-store.js';
import { EventStore } from '../../../../event-store/event-store.port.js';
import { ReadStore } from '../../../../read-side/read-store.port.js';
import { ReadModels } from '../../../../read-side/runtime/read-models.js';
import { hasRole } from '../../../../shared/application/command-context.js';
import { loadConsistent } from '../../../../shared/application/consistent-read.js';
import { ResourceNotFoundError } from '../../../../shared/application/errors.js';
import { orderAggregate } from '../../order.aggregate.js';
import { GetOrderTimelineQuery } from './get-order-timeline.query.js';
import { timelinePage, type TimelinePage } from './timeline.js';

/** The human-readable history of one order (the `order_timeline` read model). */
@QueryHandler(GetOrderTimelineQuery)
export class GetOrderTimelineHandler implements IQueryHandler<GetOrderTimelineQuery, TimelinePage> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly events: EventStore,
    private readonly readModels: ReadModels,
    private readonly store: ReadStore,
  ) {}

  async execute({ orderId, actor, limit, cursor }: GetOrderTimelineQuery): Promise<TimelinePage> {
    // Existence and ownership come from the source of truth, so a lagging projection never hides an order.
    const { state } = await loadConsistent(this.aggregates, this.events, orderAggregate, orderId);
    const visible = hasRole(actor, 'operator', 'auditor') || state.customerId === actor.id;
    if (state.status === 'none' || !visible) throw new ResourceNotFoundError('order', orderId);
    return timelinePage(this.readModels, this.store, { orderId }, limit, cursor);
  }
}
