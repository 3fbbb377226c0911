import type { AccessPolicy } from '../shared/application/access-policy.js';
import type { AggregateType } from '../write-path/aggregate-type.js';
import { eventReader } from '../write-path/upcasting.js';
import { evolveProduct, initialProductState } from './domain/product.decider.js';
import {
  PRODUCT_EVENT_SCHEMA_VERSION,
  PRODUCT_EVENT_TYPES,
  type ProductEvent,
} from './domain/product.events.js';
import type { ProductState } from './domain/product.state.js';

/** The catalog is the shop's: every authenticated role reads it, only operators change it. */
const CATALOG_ACCESS: AccessPolicy = { seenBy: ['shopper', 'operator', 'auditor'], changedBy: ['operator'] };

/** Streams `product-<sku>` (skus are case-sensitive), snapshots in `productsnapshot-<sku>`. Nobody owns one. */
export const productAggregate: AggregateType<ProductState, ProductEvent> = {
  category: 'product',
  initialState: initialProductState,
  evolve: evolveProduct,
  stateSchemaVersion: 1,
  toDomainEvent: eventReader<ProductEvent>(PRODUCT_EVENT_TYPES, PRODUCT_EVENT_SCHEMA_VERSION),
  exists: (state) => state.status !== 'none',
  ownerOf: () => null,
  access: CATALOG_ACCESS,
};
