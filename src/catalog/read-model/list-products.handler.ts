import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadStore, type FieldCondition } from '../../read-side/read-store.port.js';
import { keysetPage } from '../../read-side/runtime/keyset-page.js';
import { LiveGenerations } from '../../read-side/runtime/live-generations.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import { ListProductsQuery, type ProductListItem, type ProductPage } from './list-products.query.js';
import { productViewOf, type ProductDocument } from './product.view.js';
import { productsProjection } from './products.projection.js';

/**
 * The strings that start with `prefix`, as an inclusive range: every such string sorts between the prefix and
 * the prefix followed by the highest code point (UTF-8 byte order is code point order, on SQLite and MongoDB).
 */
function prefixRange(prefix: string): FieldCondition {
  return { gte: prefix, lte: `${prefix}\u{10FFFF}` };
}

/** QP-3 (docs/architecture.md#read-patterns): a page of products from the indexed `products` read model, by sku. */
@QueryHandler(ListProductsQuery)
export class ListProductsHandler implements IQueryHandler<ListProductsQuery, ProductPage> {
  constructor(
    private readonly generations: LiveGenerations,
    private readonly store: ReadStore,
    private readonly reader: ReadModelReader,
  ) {}

  async execute({ filters, limit, cursor, maxStaleMs }: ListProductsQuery): Promise<ProductPage> {
    const where: Record<string, FieldCondition> = {};
    if (filters.status !== 'all') where.status = { eq: filters.status };
    if (filters.skuPrefix !== undefined) where.sku = prefixRange(filters.skuPrefix);
    if (filters.namePrefix !== undefined) where.nameKey = prefixRange(filters.namePrefix.toLowerCase());
    // Measured before the query: what it reads is at least that fresh. Past maxStaleMs: refused (503).
    const staleness = await this.reader.listStaleness(productsProjection, maxStaleMs);
    const collection = await this.generations.collection(productsProjection);
    const { docs, nextCursor } = await keysetPage(this.store, collection, {
      where,
      orderBy: { field: 'sku', direction: 'asc' },
      limit,
      cursor,
    });
    const items = docs.map((doc): ProductListItem => ({
      ...productViewOf(doc.data as unknown as ProductDocument),
      revision: Number(doc.revision),
    }));
    return { items, nextCursor, staleness };
  }
}
