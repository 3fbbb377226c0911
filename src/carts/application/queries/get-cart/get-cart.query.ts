import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../../../shared/application/command-context.js';

export interface CartLineView {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPrice: number;
  readonly lineTotal: number;
}

export interface CartView {
  readonly id: string;
  readonly customerId: string;
  readonly currency: string;
  readonly status: 'open' | 'checked-out' | 'abandoned';
  readonly lines: readonly CartLineView[];
  readonly total: number;
  readonly orderId: string | null;
}

export class GetCartQuery extends Query<{ data: CartView; revision: bigint }> {
  constructor(
    readonly cartId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}
