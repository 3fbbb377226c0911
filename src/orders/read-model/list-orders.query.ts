import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../shared/application/command-context.js';
import type { RefundState } from './order-search.projection.js';

export type OrderSort = 'createdAt' | '-createdAt' | 'updatedAt' | '-updatedAt' | 'total' | '-total';

export interface OrderFilters {
  readonly status?: 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';
  /** Created at or after this instant (UTC ISO-8601 with ms). */
  readonly from?: string;
  /** Created at or before this instant. */
  readonly to?: string;
  readonly minTotal?: number;
  readonly maxTotal?: number;
  readonly sku?: string;
  /** Operators and auditors only (a shopper always sees their own orders). */
  readonly customerId?: string;
  readonly refund?: RefundState;
  readonly paymentException?: boolean;
}

export interface OrderListItem {
  readonly id: string;
  readonly customerId: string;
  readonly status: string;
  readonly currency: string;
  readonly total: number;
  readonly skus: readonly string[];
  readonly refund: RefundState;
  readonly paymentException: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly revision: number;
}

export interface OrderPage {
  readonly items: readonly OrderListItem[];
  readonly nextCursor: string | null;
  /** Milliseconds the read model trails the event store (its lag in time; docs/consistency.md#staleness). */
  readonly staleness: number;
}

export class ListOrdersQuery extends Query<OrderPage> {
  constructor(
    readonly actor: Actor,
    readonly filters: OrderFilters,
    readonly sort: OrderSort,
    readonly limit: number,
    readonly cursor: string | null,
    /** The most stale (ms) the caller accepts (max-stale); null: any. */
    readonly maxStaleMs: number | null = null,
  ) {
    super();
  }
}
