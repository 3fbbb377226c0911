import { Query } from '@nestjs/cqrs';
import type { Actor } from '../../../../shared/application/command-context.js';
import type { OrderLine } from '../../../domain/order.events.js';

export interface OrderView {
  readonly id: string;
  readonly cartId: string;
  readonly customerId: string;
  readonly currency: string;
  readonly status: 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';
  readonly lines: readonly OrderLine[];
  readonly total: number;
  readonly paid: number;
  readonly refunded: number;
  readonly paymentId: string | null;
  readonly shipment: { readonly carrier: string; readonly trackingNumber: string } | null;
  readonly cancellationReason: string | null;
}

export class GetOrderQuery extends Query<{ data: OrderView; revision: bigint }> {
  constructor(
    readonly orderId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}
