import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../../../event-store/aggregate-store.js';
import { EventStore } from '../../../../event-store/event-store.port.js';
import { hasRole } from '../../../../shared/application/command-context.js';
import { loadConsistent } from '../../../../shared/application/consistent-read.js';
import { ResourceNotFoundError } from '../../../../shared/application/errors.js';
import { orderAggregate } from '../../order.aggregate.js';
import { GetOrderQuery, type OrderView } from './get-order.query.js';

/** QP-1: the order folded from its stream (strong consistency). */
@QueryHandler(GetOrderQuery)
export class GetOrderHandler implements IQueryHandler<GetOrderQuery, { data: OrderView; revision: bigint }> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly events: EventStore,
  ) {}

  async execute({ orderId, actor }: GetOrderQuery): Promise<{ data: OrderView; revision: bigint }> {
    const { state, revision } = await loadConsistent(this.aggregates, this.events, orderAggregate, orderId);
    const visible = hasRole(actor, 'operator', 'auditor') || state.customerId === actor.id;
    if (state.status === 'none' || revision === 'no_stream' || !visible) {
      throw new ResourceNotFoundError('order', orderId);
    }
    return {
      revision,
      data: {
        id: orderId,
        cartId: state.cartId ?? '',
        customerId: state.customerId ?? '',
        currency: state.currency ?? '',
        status: state.status,
        lines: state.lines,
        total: state.total,
        paid: state.paid,
        refunded: state.refunded,
        paymentId: state.paymentId,
        shipment: state.shipment,
        cancellationReason: state.cancellationReason,
      },
    };
  }
}
