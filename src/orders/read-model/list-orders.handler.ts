import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { orderSearchProjection, type OrderSearchRow } from './order-search.projection.js';
import { ReadStore, type FieldCondition, type FindQuery } from '../../read-side/read-store.port.js';
import { LiveGenerations } from '../../read-side/runtime/live-generations.js';
import { ReadModelReader } from '../../read-side/runtime/read-model-reader.js';
import { CUSTOMER_DATA, seesEveryone } from '../../shared/application/access-policy.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../shared/application/cursor.js';
import { AccessDeniedError, InvalidRequestError } from '../../shared/application/errors.js';
import { ListOrdersQuery, type OrderListItem, type OrderPage } from './list-orders.query.js';

/** QP-3 (docs/architecture.md#read-patterns): a page of orders from the indexed `order_search` read model, keyset-paginated. */
@QueryHandler(ListOrdersQuery)
export class ListOrdersHandler implements IQueryHandler<ListOrdersQuery, OrderPage> {
  constructor(
    private readonly generations: LiveGenerations,
    private readonly store: ReadStore,
    private readonly reader: ReadModelReader,
  ) {}

  async execute({ actor, filters, sort, limit, cursor, maxStaleMs }: ListOrdersQuery): Promise<OrderPage> {
    const privileged = seesEveryone(CUSTOMER_DATA, actor);
    if (!privileged && filters.customerId !== undefined && filters.customerId !== actor.id) {
      throw new AccessDeniedError('A shopper can only list their own orders');
    }
    const customerId = privileged ? filters.customerId : actor.id;
    if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to) {
      throw new InvalidRequestError('INVALID_RANGE', 'from must not be after to', 'from');
    }
    if (
      filters.minTotal !== undefined &&
      filters.maxTotal !== undefined &&
      filters.minTotal > filters.maxTotal
    ) {
      throw new InvalidRequestError('INVALID_RANGE', 'minTotal must not be above maxTotal', 'minTotal');
    }

    const where: Record<string, FieldCondition> = {};
    if (customerId !== undefined) where.customerId = { eq: customerId };
    if (filters.status !== undefined) where.status = { eq: filters.status };
    if (filters.sku !== undefined) where.skus = { has: filters.sku };
    if (filters.refund !== undefined) where.refund = { eq: filters.refund };
    if (filters.paymentException !== undefined) where.paymentException = { eq: filters.paymentException };
    if (filters.from !== undefined || filters.to !== undefined) {
      where.createdAt = {
        ...(filters.from && { gte: filters.from }),
        ...(filters.to && { lte: filters.to }),
      };
    }
    if (filters.minTotal !== undefined || filters.maxTotal !== undefined) {
      where.total = {
        ...(filters.minTotal !== undefined && { gte: filters.minTotal }),
        ...(filters.maxTotal !== undefined && { lte: filters.maxTotal }),
      };
    }
    const field = sort.startsWith('-') ? sort.slice(1) : sort;
    const orderBy = { field, direction: sort.startsWith('-') ? 'desc' : 'asc' } as const;
    const fingerprint = queryFingerprint({ where, orderBy });
    const query: FindQuery = {
      where,
      orderBy,
      limit: limit + 1,
      ...(cursor !== null && { after: decodeCursor(cursor, fingerprint) }),
    };

    // Measured before the query: what it reads is at least that fresh. Past maxStaleMs: refused (503).
    const staleness = await this.reader.listStaleness(orderSearchProjection, maxStaleMs);
    const docs = await this.store.find(await this.generations.collection(orderSearchProjection), query);
    const page = docs.slice(0, limit);
    const items = page.map((doc): OrderListItem => {
      const row = doc.data as unknown as OrderSearchRow;
      return {
        id: doc.id,
        customerId: row.customerId,
        status: row.status,
        currency: row.currency,
        total: row.total,
        skus: row.skus,
        // Rows projected before these fields existed (a rebuild fills them in).
        refund: row.refund ?? 'none',
        paymentException: row.paymentException ?? false,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
        revision: Number(doc.revision),
      };
    });
    const last = items[items.length - 1];
    const nextCursor =
      docs.length > limit && last
        ? encodeCursor(
            { value: last[field as 'createdAt' | 'updatedAt' | 'total'], id: last.id },
            fingerprint,
          )
        : null;
    return { items, nextCursor, staleness };
  }
}
