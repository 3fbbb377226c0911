import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadStore } from '../../../../read-side/read-store.port.js';
import { ReadModels } from '../../../../read-side/runtime/read-models.js';
import { hasRole } from '../../../../shared/application/command-context.js';
import { ResourceNotFoundError } from '../../../../shared/application/errors.js';
import { timelinePage, type TimelinePage } from '../get-order-timeline/timeline.js';
import { GetCustomerTimelineQuery } from './get-customer-timeline.query.js';

/** Every order event of one customer, in global position order (a shopper: only their own). */
@QueryHandler(GetCustomerTimelineQuery)
export class GetCustomerTimelineHandler implements IQueryHandler<GetCustomerTimelineQuery, TimelinePage> {
  constructor(
    private readonly readModels: ReadModels,
    private readonly store: ReadStore,
  ) {}

  async execute({ customerId, actor, limit, cursor }: GetCustomerTimelineQuery): Promise<TimelinePage> {
    if (!hasRole(actor, 'operator', 'auditor') && customerId !== actor.id) {
      throw new ResourceNotFoundError('customer', customerId);
    }
    return timelinePage(this.readModels, this.store, { customerId }, limit, cursor);
  }
}
