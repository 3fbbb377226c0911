import { DomainError } from './domain-error.js';

/** ISO 4217 alphabetic code: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** Largest amount of minor units accepted anywhere (keeps every sum a safe integer). */
export const MAX_MINOR_UNITS = 1_000_000_000_000;

export function assertCurrency(code: string): void {
  if (!CURRENCY_PATTERN.test(code)) {
    throw new DomainError('INVALID_CURRENCY', `currency must be an ISO 4217 code, got "${code}"`, 'invalid');
  }
}

/** Money is always an integer number of minor units (cents), never a float. */
export function assertMinorUnits(field: string, amount: number, { allowZero = true } = {}): void {
  if (
    !Number.isSafeInteger(amount) ||
    amount < 0 ||
    amount > MAX_MINOR_UNITS ||
    (!allowZero && amount === 0)
  ) {
    throw new DomainError(
      'INVALID_AMOUNT',
      `${field} must be an integer number of minor units between ${allowZero ? 0 : 1} and ${MAX_MINOR_UNITS}`,
      'invalid',
      { field },
    );
  }
}
