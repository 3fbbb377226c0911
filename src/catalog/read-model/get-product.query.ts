import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../shared/application/command-context.js';
import {
  STRONG_READ,
  type FreshnessRead,
  type ReadOptions,
} from '../../shared/application/freshness-read.js';
import type { ProductView } from './product.view.js';

export type { ProductView } from './product.view.js';

export class GetProductQuery extends Query<FreshnessRead<ProductView>> {
  constructor(
    readonly sku: string,
    readonly actor: Actor,
    readonly options: ReadOptions = STRONG_READ,
  ) {
    super();
  }
}
