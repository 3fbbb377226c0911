import type { TestApp } from './test-app.js';

export async function openCart(t: TestApp, auth: string, currency = 'EUR'): Promise<string> {
  const res = await t.http.post('/carts').set('authorization', auth).send({ currency });
  if (res.status !== 201) throw new Error(`open cart failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export async function addItem(
  t: TestApp,
  auth: string,
  cartId: string,
  item: { sku: string; name?: string; quantity?: number; unitPrice?: number },
): Promise<void> {
  const res = await t.http
    .post(`/carts/${cartId}/items`)
    .set('authorization', auth)
    .send({ name: item.sku, quantity: 1, unitPrice: 100, ...item });
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
  await addItem(t, auth, cartId, { sku: 'sku-1', quantity, unitPrice });
  const res = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', auth);
  if (res.status !== 200) throw new Error(`checkout failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { cartId, orderId: res.body.orderId as string, total: unitPrice * quantity };
}
