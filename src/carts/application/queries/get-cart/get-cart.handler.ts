import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../../../event-store/aggregate-store.js';
import { EventStore } from '../../../../event-store/event-store.port.js';
import { hasRole } from '../../../../shared/application/command-context.js';
import { loadConsistent } from '../../../../shared/application/consistent-read.js';
import { ResourceNotFoundError } from '../../../../shared/application/errors.js';
import { cartTotal } from '../../../domain/cart.decider.js';
import { cartAggregate } from '../../cart.aggregate.js';
import { GetCartQuery, type CartView } from './get-cart.query.js';

/** QP-1: the cart folded from its stream (strong consistency). */
@QueryHandler(GetCartQuery)
export class GetCartHandler implements IQueryHandler<GetCartQuery, { data: CartView; revision: bigint }> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly events: EventStore,
  ) {}

  async execute({ cartId, actor }: GetCartQuery): Promise<{ data: CartView; revision: bigint }> {
    const { state, revision } = await loadConsistent(this.aggregates, this.events, cartAggregate, cartId);
    const visible = hasRole(actor, 'operator', 'auditor') || state.customerId === actor.id;
    if (state.status === 'none' || revision === 'no_stream' || !visible)
      throw new ResourceNotFoundError('cart', cartId);
    return {
      revision,
      data: {
        id: cartId,
        customerId: state.customerId ?? '',
        currency: state.currency ?? '',
        status: state.status,
        lines: state.lines.map((line) => ({ ...line, lineTotal: line.quantity * line.unitPrice })),
        total: cartTotal(state),
        orderId: state.orderId,
      },
    };
  }
}
