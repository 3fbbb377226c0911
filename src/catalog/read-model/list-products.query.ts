import { Query } from '@nestjs/cqrs';
import type { ProductView } from './product.view.js';

export const PRODUCT_STATUS_FILTERS = ['listed', 'withdrawn', 'all'] as const;

export interface ProductFilters {
  /** `all`: listed and withdrawn products. */
  readonly status: (typeof PRODUCT_STATUS_FILTERS)[number];
  /** Skus starting with this (case-sensitive, like skus). */
  readonly skuPrefix?: string;
  /** Names starting with this, ignoring case. */
  readonly namePrefix?: string;
}

export interface ProductListItem extends ProductView {
  readonly revision: number;
}

export interface ProductPage {
  readonly items: readonly ProductListItem[];
  readonly nextCursor: string | null;
  /** Milliseconds the read model trails the event store (its lag in time; docs/consistency.md#staleness). */
  readonly staleness: number;
}

/** Products by sku, ascending (the catalog is public to every authenticated role). */
export class ListProductsQuery extends Query<ProductPage> {
  constructor(
    readonly filters: ProductFilters,
    readonly limit: number,
    readonly cursor: string | null,
    /** The most stale (ms) the caller accepts (max-stale); null: any. */
    readonly maxStaleMs: number | null = null,
  ) {
    super();
  }
}
