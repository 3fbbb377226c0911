import type { TestApp } from './test-app.js';

/** What each app's catalog was told to sell, so that a fixture lists or reprices a product only once. */
const catalogs = new WeakMap<TestApp, Map<string, number>>();

/**
 * Makes the catalog sell `sku` at `unitPrice` (minor units) in `currency`: lists it, or reprices it when it
 * is listed at another price. The shop sets prices, so a test that adds an item first puts it in the catalog.
 */
export async function ensureProduct(
  t: TestApp,
  sku: string,
  unitPrice: number,
  { name = sku, currency = 'EUR' }: { name?: string; currency?: string } = {},
): Promise<void> {
  let known = catalogs.get(t);
  if (!known) catalogs.set(t, (known = new Map()));
  const key = `${sku}\n${currency}`;
  if (known.get(key) === unitPrice) return;
  const operator = t.bearer('catalog-operator', 'operator');
  const prices = { [currency]: unitPrice };
  const listed = await t.http
    .post('/catalog/products')
    .set('authorization', operator)
    .send({ sku, name, prices });
  if (listed.status !== 201) {
    if (listed.body.code !== 'PRODUCT_ALREADY_LISTED') {
      throw new Error(`listing ${sku} failed: ${listed.status} ${JSON.stringify(listed.body)}`);
    }
    const priced = await t.http
      .patch(`/catalog/products/${encodeURIComponent(sku)}/price`)
      .set('authorization', operator)
      .send({ prices });
    if (priced.status !== 200)
      throw new Error(`pricing ${sku} failed: ${priced.status} ${JSON.stringify(priced.body)}`);
  }
  known.set(key, unitPrice);
}

export async function openCart(t: TestApp, auth: string, currency = 'EUR'): Promise<string> {
  const res = await t.http.post('/carts').set('authorization', auth).send({ currency });
  if (res.status !== 201) throw new Error(`open cart failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Adds a catalog product to the cart, listing it first at `unitPrice` (default 100) when needed. */
export async function addItem(
  t: TestApp,
  auth: string,
  cartId: string,
  item: { sku: string; name?: string; quantity?: number; unitPrice?: number; currency?: string },
): Promise<void> {
  await ensureProduct(t, item.sku, item.unitPrice ?? 100, {
    ...(item.name !== undefined && { name: item.name }),
    ...(item.currency !== undefined && { currency: item.currency }),
  });
  const res = await t.http
    .post(`/carts/${cartId}/items`)
    .set('authorization', auth)
    .send({ sku: item.sku, quantity: item.quantity ?? 1 });
  if (res.status !== 200) throw new Error(`add item failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** A placed order (cart with one line checked out), returning both ids. */
export async function placeOrder(
  t: TestApp,
  auth: string,
  unitPrice = 500,
  quantity = 2,
): Promise<{ cartId: string; orderId: string; total: number }> {
  const cartId = await openCart(t, auth);
  await addItem(t, auth, cartId, { sku: `sku-${unitPrice}`, quantity, unitPrice });
  const res = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', auth);
  if (res.status !== 200) throw new Error(`checkout failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { cartId, orderId: res.body.orderId as string, total: unitPrice * quantity };
}
