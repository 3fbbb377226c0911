import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { cartsProjection } from './carts.projection.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import type { FreshnessRead } from '../../shared/application/freshness-read.js';
import { maySee } from '../../shared/application/access-policy.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { cartAggregate } from '../cart.aggregate.js';
import { cartView, type CartView } from './cart.view.js';
import { GetCartQuery } from './get-cart.query.js';

/**
 * A cart: from the `carts` read model (QP-2, default) or folded from its stream (QP-1, `strong`);
 * the read patterns are defined in docs/architecture.md#read-patterns.
 */
@QueryHandler(GetCartQuery)
export class GetCartHandler implements IQueryHandler<GetCartQuery, FreshnessRead<CartView>> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly cached: ReadModelReader,
  ) {}

  async execute({ cartId, actor, options }: GetCartQuery): Promise<FreshnessRead<CartView>> {
    const read =
      options.consistency === 'strong'
        ? await this.strong(cartId).then((found) => found && ReadModelReader.folded(found))
        : await this.cached.read(cartsProjection, cartId, options, () => this.strong(cartId));
    const visible = read && maySee(cartAggregate.access, actor, read.data.customerId);
    if (!read || !visible) throw new ResourceNotFoundError('cart', cartId);
    return read;
  }

  private async strong(cartId: string): Promise<{ data: CartView; revision: bigint } | null> {
    const { state, revision } = await this.aggregates.loadConsistent(cartAggregate, cartId);
    if (state.status === 'none' || revision === 'no_stream') return null;
    return { data: cartView(cartId, state), revision };
  }
}
