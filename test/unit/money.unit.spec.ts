import {
  assertCurrency,
  assertMinorUnits,
  DomainError,
  MAX_MINOR_UNITS,
} from '../../src/shared/domain/index.js';

function thrown(run: () => void): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, nothing was thrown');
}

describe('money', () => {
  describe('assertCurrency', () => {
    it.each(['EUR', 'USD', 'JPY', 'XXX'])('accepts %j', (code) => {
      expect(() => assertCurrency(code)).not.toThrow();
    });

    it.each(['eur', 'Eur', 'EURO', 'EU', '', ' EUR', 'EUR\n', '€', '123'])(
      'refuses %j: INVALID_CURRENCY',
      (code) => {
        const error = thrown(() => assertCurrency(code));
        expect({ code: error.code, kind: error.kind }).toEqual({ code: 'INVALID_CURRENCY', kind: 'invalid' });
      },
    );
  });

  describe('assertMinorUnits', () => {
    it.each([0, 1, 1999, MAX_MINOR_UNITS])('accepts %p', (amount) => {
      expect(() => assertMinorUnits('price', amount)).not.toThrow();
    });

    it.each([
      -1,
      0.5,
      1e-9,
      MAX_MINOR_UNITS + 1,
      Number.MAX_SAFE_INTEGER + 1,
      Number.NaN,
      -Infinity,
      Infinity,
    ])('refuses %p: INVALID_AMOUNT naming the field', (amount) => {
      const error = thrown(() => assertMinorUnits('price', amount));
      expect({ code: error.code, kind: error.kind, details: error.details }).toEqual({
        code: 'INVALID_AMOUNT',
        kind: 'invalid',
        details: { field: 'price' },
      });
    });

    it('refuses zero only when asked to', () => {
      expect(thrown(() => assertMinorUnits('refund', 0, { allowZero: false })).code).toBe('INVALID_AMOUNT');
      expect(() => assertMinorUnits('refund', 1, { allowZero: false })).not.toThrow();
    });

    it('bounds each amount so that a capped total plus one more line stays a safe integer', () => {
      expect(Number.isSafeInteger(100 * 999 * MAX_MINOR_UNITS)).toBe(false);
      // …which is why a cart total, not only each price, is held to the maximum (see the cart decider).
      expect(Number.isSafeInteger(MAX_MINOR_UNITS + 999 * MAX_MINOR_UNITS)).toBe(true);
    });
  });
});
