import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../shared/application/command-context.js';
import {
  STRONG_READ,
  type FreshnessRead,
  type ReadOptions,
} from '../../shared/application/freshness-read.js';
import type { OrderView } from './order.view.js';

export type { OrderView } from './order.view.js';

export class GetOrderQuery extends Query<FreshnessRead<OrderView>> {
  constructor(
    readonly orderId: string,
    readonly actor: Actor,
    readonly options: ReadOptions = STRONG_READ,
  ) {
    super();
  }
}
