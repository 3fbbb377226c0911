import { cartAggregate } from '../../src/carts/cart.aggregate.js';
import { evolveCart, initialCartState } from '../../src/carts/domain/cart.decider.js';
import { orderAggregate } from '../../src/orders/order.aggregate.js';
import { evolveOrder, initialOrderState } from '../../src/orders/domain/order.decider.js';
import type { Actor, Role } from '../../src/shared/application/command-context.js';
import { CUSTOMER_DATA, maySee, seesEveryone } from '../../src/shared/application/access-policy.js';
import { canChange, canSee } from '../../src/write-path/aggregate-type.js';

const actor = (id: string, ...roles: Role[]): Actor => ({ id, roles });
const cart = evolveCart(initialCartState, {
  type: 'CartOpened',
  data: { cartId: 'c1', customerId: 'alice', currency: 'EUR' },
});
const order = evolveOrder(initialOrderState, {
  type: 'OrderPlaced',
  data: {
    orderId: 'o1',
    cartId: 'c1',
    customerId: 'alice',
    currency: 'EUR',
    lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: 100, lineTotal: 100 }],
    total: 100,
  },
});

describe('access policies', () => {
  it('a cart: its shopper sees and changes it; operators and auditors only see it; others nothing', () => {
    expect(canChange(cartAggregate, actor('alice', 'shopper'), cart)).toBe(true);
    expect(canSee(cartAggregate, actor('alice', 'shopper'), cart)).toBe(true);
    for (const role of ['operator', 'auditor'] as const) {
      expect(canSee(cartAggregate, actor('ops', role), cart)).toBe(true);
      expect(canChange(cartAggregate, actor('ops', role), cart)).toBe(false);
    }
    expect(canSee(cartAggregate, actor('bob', 'shopper'), cart)).toBe(false);
    expect(canChange(cartAggregate, actor('bob', 'shopper'), cart)).toBe(false);
  });

  it('an order: its shopper and operators act on it; auditors only see it', () => {
    expect(canChange(orderAggregate, actor('alice', 'shopper'), order)).toBe(true);
    expect(canChange(orderAggregate, actor('ops', 'operator'), order)).toBe(true);
    expect(canChange(orderAggregate, actor('audit', 'auditor'), order)).toBe(false);
    expect(canSee(orderAggregate, actor('audit', 'auditor'), order)).toBe(true);
    expect(canSee(orderAggregate, actor('bob', 'shopper'), order)).toBe(false);
  });

  it('nothing is visible or changeable before it exists, whatever the role', () => {
    for (const who of [actor('alice', 'shopper'), actor('ops', 'operator', 'auditor')]) {
      expect(canSee(cartAggregate, who, initialCartState)).toBe(false);
      expect(canChange(orderAggregate, who, initialOrderState)).toBe(false);
    }
  });

  it("a customer's own data: only they, or a role that reads everyone's", () => {
    expect(maySee(CUSTOMER_DATA, actor('alice', 'shopper'), 'alice')).toBe(true);
    expect(maySee(CUSTOMER_DATA, actor('bob', 'shopper'), 'alice')).toBe(false);
    expect(maySee(CUSTOMER_DATA, actor('bob', 'shopper'), null)).toBe(false);
    expect(seesEveryone(CUSTOMER_DATA, actor('a', 'auditor'))).toBe(true);
    expect(seesEveryone(CUSTOMER_DATA, actor('s', 'shopper'))).toBe(false);
  });
});
