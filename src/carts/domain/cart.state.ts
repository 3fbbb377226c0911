export interface CartLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  /** Integer minor units of the cart's currency. */
  readonly unitPrice: number;
}

export type CartStatus = 'none' | 'open' | 'checked-out' | 'abandoned';

/** Plain JSON (no Map, no Date, no bigint) so that it can be snapshotted as is. */
export interface CartState {
  readonly status: CartStatus;
  readonly cartId: string | null;
  readonly customerId: string | null;
  readonly currency: string | null;
  /** In the order the skus were first added. */
  readonly lines: readonly CartLine[];
  readonly orderId: string | null;
}

export const MAX_LINES_PER_CART = 100;
