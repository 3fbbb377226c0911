import { DomainError } from './domain-error.js';

/** A stock keeping unit: 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-" (safe in URLs and filters). */
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Refuses a sku that does not follow SKU_PATTERN (skus are case-sensitive: `A-1` and `a-1` are two). */
export function assertSku(sku: string): void {
  if (!SKU_PATTERN.test(sku)) {
    throw new DomainError(
      'INVALID_SKU',
      'A sku is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"',
      'invalid',
      { sku },
    );
  }
}
