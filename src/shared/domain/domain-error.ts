/**
 * How a rule violation should be understood by callers, without any transport knowledge:
 * - `conflict`: the request is fine but the aggregate's current state forbids it (e.g. cart already checked out);
 * - `invalid`: the request breaks a business rule by itself (e.g. quantity out of range, currency mismatch);
 * - `not-found`: the thing addressed does not exist (e.g. removing a sku that is not in the cart).
 */
export type DomainErrorKind = 'conflict' | 'invalid' | 'not-found';

/** What a rule violation tells its caller besides its code: plain JSON. */
export type DomainErrorDetail =
  | string
  | number
  | boolean
  | null
  | readonly DomainErrorDetail[]
  | { readonly [key: string]: DomainErrorDetail };

/** A business-rule violation with a stable, documented code (e.g. `CART_CLOSED`). */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly kind: DomainErrorKind = 'conflict',
    readonly details: Readonly<Record<string, DomainErrorDetail>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
