import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore } from '../../event-store/event-store.port.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import { maySee } from '../../shared/application/access-policy.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import type { FreshnessRead } from '../../shared/application/freshness-read.js';
import { streamName } from '../../shared/domain/index.js';
import { AggregateStore } from '../../write-path/aggregate-store.js';
import { productAggregate } from '../product.aggregate.js';
import { GetProductQuery } from './get-product.query.js';
import { productView, productViewOf, type ProductDocument, type ProductView } from './product.view.js';
import { productsProjection } from './products.projection.js';

/**
 * A product: from the `products` read model (QP-2, default) or folded from its stream (QP-1, `strong`);
 * the read patterns are defined in docs/architecture.md#read-patterns. A withdrawn product is still found.
 */
@QueryHandler(GetProductQuery)
export class GetProductHandler implements IQueryHandler<GetProductQuery, FreshnessRead<ProductView>> {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly events: EventStore,
    private readonly cached: ReadModelReader,
  ) {}

  async execute({ sku, actor, options }: GetProductQuery): Promise<FreshnessRead<ProductView>> {
    const read =
      options.consistency === 'strong'
        ? await this.strong(sku).then((found) => found && ReadModelReader.folded(found))
        : await this.cached
            .read<ProductDocument | ProductView>(productsProjection, sku, options, () => this.strong(sku))
            .then((found) => found && { ...found, data: withoutSearchKey(found.data) });
    if (!read || !maySee(productAggregate.access, actor, null)) {
      throw new ResourceNotFoundError('product', sku);
    }
    return read;
  }

  /** The state folded from the stream, with the instants of its first and last events (QP-1). */
  private async strong(sku: string): Promise<{ data: ProductView; revision: bigint } | null> {
    const { state, revision } = await this.aggregates.loadConsistent(productAggregate, sku);
    if (state.status === 'none' || revision === 'no_stream') return null;
    const stream = streamName(productAggregate.category, sku);
    const [[first], [last]] = await Promise.all([
      this.events.readStream(stream, { limit: 1 }),
      this.events.readStream(stream, { from: revision, limit: 1 }),
    ]);
    if (!first || !last) return null;
    return { data: productView(sku, state, first.created, last.created), revision };
  }
}

function withoutSearchKey(data: ProductDocument | ProductView): ProductView {
  return 'nameKey' in data ? productViewOf(data) : data;
}
