import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadStore } from '../../read-side/read-store.port.js';
import { LiveGenerations } from '../../read-side/runtime/live-generations.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import { CUSTOMER_DATA, maySee } from '../../shared/application/access-policy.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { timelinePage, type TimelinePage } from './timeline-page.js';
import { GetCustomerTimelineQuery } from './get-customer-timeline.query.js';

/** Every order event of one customer, in global position order (a shopper: only their own). */
@QueryHandler(GetCustomerTimelineQuery)
export class GetCustomerTimelineHandler implements IQueryHandler<GetCustomerTimelineQuery, TimelinePage> {
  constructor(
    private readonly generations: LiveGenerations,
    private readonly store: ReadStore,
    private readonly reader: ReadModelReader,
  ) {}

  async execute({
    customerId,
    actor,
    limit,
    cursor,
    maxStaleMs,
  }: GetCustomerTimelineQuery): Promise<TimelinePage> {
    if (!maySee(CUSTOMER_DATA, actor, customerId)) {
      throw new ResourceNotFoundError('customer', customerId);
    }
    return timelinePage(
      this.reader,
      this.generations,
      this.store,
      { customerId },
      { limit, cursor, maxStaleMs },
    );
  }
}
