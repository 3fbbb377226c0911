import { eventReader, UnknownEventError } from '../../src/write-path/upcasting.js';
import type { DomainEvent } from '../../src/shared/domain/index.js';

type Renamed = DomainEvent<'ItemAdded', { sku: string; quantity: number; unitPrice: number }>;

describe('event upcasting', () => {
  // v1 had `price`; v2 renamed it to `unitPrice`; v3 added a default quantity.
  const read = eventReader<Renamed>(['ItemAdded'], 3, {
    ItemAdded: {
      1: ({ price, ...rest }) => ({ ...rest, unitPrice: price ?? 0 }),
      2: (data) => ({ quantity: 1, ...data }),
    },
  });

  it('upcasts old versions step by step to the current shape', () => {
    expect(read({ type: 'ItemAdded', data: { sku: 'a', price: 5 }, metadata: { schemaVersion: 1 } })).toEqual(
      {
        type: 'ItemAdded',
        data: { sku: 'a', unitPrice: 5, quantity: 1 },
      },
    );
    expect(
      read({ type: 'ItemAdded', data: { sku: 'a', unitPrice: 5 }, metadata: { schemaVersion: 2 } }).data,
    ).toEqual({
      sku: 'a',
      unitPrice: 5,
      quantity: 1,
    });
  });

  it('passes the current version through untouched', () => {
    const data = { sku: 'a', unitPrice: 5, quantity: 3 };
    expect(read({ type: 'ItemAdded', data, metadata: { schemaVersion: 3 } }).data).toBe(data);
  });

  it('refuses unknown types and versions instead of folding them partially', () => {
    expect(() => read({ type: 'Nope', data: {}, metadata: { schemaVersion: 1 } })).toThrow(UnknownEventError);
    expect(() => read({ type: 'ItemAdded', data: {}, metadata: { schemaVersion: 4 } })).toThrow(
      UnknownEventError,
    );
    expect(() => read({ type: 'ItemAdded', data: {}, metadata: { schemaVersion: 'x' } })).toThrow(
      UnknownEventError,
    );
  });
});
