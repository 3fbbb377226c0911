import { idInCategory, snapshotStreamName, streamName } from '../../src/shared/domain/index.js';

describe('stream names', () => {
  it('build `<category>-<id>` and parse the id back', () => {
    expect(streamName('cart', 'abc')).toBe('cart-abc');
    expect(idInCategory('cart', streamName('cart', 'a-b-c'))).toBe('a-b-c');
  });

  it('keep snapshots out of the category: `cartsnapshot-<id>` is not a cart stream', () => {
    const snapshots = snapshotStreamName('cart', 'abc');
    expect(snapshots).toBe('cartsnapshot-abc');
    expect(idInCategory('cart', snapshots)).toBeNull();
  });

  it('answer null for other categories, a bare category and an empty id', () => {
    expect(idInCategory('cart', 'order-abc')).toBeNull();
    expect(idInCategory('order', 'ord-abc')).toBeNull();
    expect(idInCategory('cart', 'cart')).toBeNull();
    expect(idInCategory('cart', 'cart-')).toBeNull();
    expect(idInCategory('cart', '$ce-cart')).toBeNull();
  });
});
