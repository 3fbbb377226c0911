import { AUDITED_EVENT_TYPES, auditedStream } from '../../src/audit/application/audited-aggregates.js';

const UUID = '0b9f3f7e-8a61-4d3e-9a55-1c2b3d4e5f60';

describe('the streams audit shows: each kind checks its own ids', () => {
  it('carts and orders by lower-case uuid, products by sku (case-sensitive, with its dots, dashes, underscores)', () => {
    expect(auditedStream(`cart-${UUID}`)).toEqual({ kind: 'cart', id: UUID });
    expect(auditedStream(`order-${UUID}`)).toEqual({ kind: 'order', id: UUID });
    expect(auditedStream('product-espresso-1kg')).toEqual({ kind: 'product', id: 'espresso-1kg' });
    expect(auditedStream('product-A.b_C-9')).toEqual({ kind: 'product', id: 'A.b_C-9' });
    expect(auditedStream(`product-${UUID}`)).toEqual({ kind: 'product', id: UUID });
  });

  it.each([
    `cart-${UUID.toUpperCase()}`,
    'cart-1',
    'cart-espresso-1kg',
    `order-${UUID}x`,
    'order-',
    'product-',
    'product-a b',
    `product-${'x'.repeat(65)}`,
    'product-a/b',
    'productsnapshot-espresso-1kg',
    `cartsnapshot-${UUID}`,
    'products-x',
    'PRODUCT-x',
    '$all',
    '$ce-product',
    `process-${UUID}`,
  ])('%j is not an audited stream', (stream) => {
    expect(auditedStream(stream)).toBeNull();
  });

  it('knows every cart, order and product event type (and no snapshot type)', () => {
    expect(AUDITED_EVENT_TYPES).toEqual(
      expect.arrayContaining([
        'CartOpened',
        'OrderPlaced',
        'ProductListed',
        'ProductPriceChanged',
        'ProductWithdrawn',
      ]),
    );
    expect(AUDITED_EVENT_TYPES).not.toContain('AggregateSnapshotTaken');
  });
});
