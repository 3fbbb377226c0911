import { productDecider } from '../../src/catalog/domain/product.decider.js';
import type { ProductEvent } from '../../src/catalog/domain/product.events.js';
import { productView } from '../../src/catalog/read-model/product.view.js';
import { productsProjection } from '../../src/catalog/read-model/products.projection.js';
import { projected, projectionSpec } from '../support/projection-spec.js';

const SKU = 'Grinder.v2-hand_1';
const at = (minute: number) => new Date(Date.UTC(2026, 4, 2, 14, minute, 0, 123));
const product = (revision: number, event: ProductEvent) =>
  projected(`product-${SKU}`, revision, event, at(revision));

const listed: ProductEvent = {
  type: 'ProductListed',
  data: { sku: SKU, name: 'Ölmühle Hand Grinder', prices: { USD: 7490, EUR: 6900 } },
};
const history: ProductEvent[] = [
  listed,
  { type: 'ProductPriceChanged', data: { sku: SKU, prices: { EUR: 6500, GBP: 5900 } } },
  { type: 'ProductPriceChanged', data: { sku: SKU, prices: { USD: null } } },
  { type: 'ProductWithdrawn', data: { sku: SKU, reason: 'new model' } },
];

describe('products projection', () => {
  it('keeps the current view with a lower-cased name key and the instants of the first and last events', () => {
    projectionSpec(productsProjection)
      .given(history.map((event, revision) => product(revision, event)))
      .then({
        sku: SKU,
        name: 'Ölmühle Hand Grinder',
        status: 'withdrawn',
        prices: { EUR: 6500, GBP: 5900 },
        listedAt: at(0).toISOString(),
        updatedAt: at(3).toISOString(),
        nameKey: 'ölmühle hand grinder',
      });
  });

  it('a product listed again: new name and prices, listedAt still its first listing', () => {
    const relisted: ProductEvent = {
      type: 'ProductListed',
      data: { sku: SKU, name: 'Hand Grinder V3', prices: { EUR: 7900 } },
    };
    projectionSpec(productsProjection)
      .given([...history, relisted].map((event, revision) => product(revision, event)))
      .then({
        sku: SKU,
        name: 'Hand Grinder V3',
        status: 'listed',
        prices: { EUR: 7900 },
        listedAt: at(0).toISOString(),
        updatedAt: at(4).toISOString(),
        nameKey: 'hand grinder v3',
      });
  });

  it('is, but for its name key, the view the strong read folds with the domain (same evolve)', () => {
    for (let length = 1; length <= history.length; length++) {
      const events = history.slice(0, length);
      const doc = projectionSpec(productsProjection).given(
        events.map((event, revision) => product(revision, event)),
      ).document!;
      const state = events.reduce(productDecider.evolve, productDecider.initialState);
      const { nameKey, ...view } = doc;
      expect(view).toEqual(productView(SKU, state, at(0), at(length - 1)));
      expect(nameKey).toBe(state.name?.toLowerCase());
    }
  });
});
