import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../shared/application/command-context.js';
import {
  STRONG_READ,
  type FreshnessRead,
  type ReadOptions,
} from '../../shared/application/freshness-read.js';
import type { CartView } from './cart.view.js';

export type { CartLineView, CartView } from './cart.view.js';

export class GetCartQuery extends Query<FreshnessRead<CartView>> {
  constructor(
    readonly cartId: string,
    readonly actor: Actor,
    readonly options: ReadOptions = STRONG_READ,
  ) {
    super();
  }
}
