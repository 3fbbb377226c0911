/**
 * What the catalog offered for a sku in the cart's currency when the command was sent: the name and unit
 * price the cart records, or why it cannot be sold. The shop sets prices; a request never does.
 */
export type CatalogOffer =
  | { readonly sku: string; readonly available: true; readonly name: string; readonly unitPrice: number }
  | { readonly sku: string; readonly available: false; readonly reason: string };

export type OpenCart = { type: 'OpenCart'; data: { cartId: string; customerId: string; currency: string } };
export type AddItem = { type: 'AddItem'; data: { sku: string; quantity: number; offer: CatalogOffer } };
export type ChangeItemQuantity = { type: 'ChangeItemQuantity'; data: { sku: string; quantity: number } };
export type RemoveItem = { type: 'RemoveItem'; data: { sku: string } };
/** Takes the catalog's current prices for every line (the offers of the cart's skus). */
export type RepriceCart = { type: 'RepriceCart'; data: { offers: readonly CatalogOffer[] } };
/** Closes the cart with its order id; `offers` are the catalog's current offers for its lines. */
export type CheckOutCart = {
  type: 'CheckOutCart';
  data: { orderId: string; offers: readonly CatalogOffer[] };
};
export type AbandonCart = { type: 'AbandonCart'; data: { reason: string | null } };

export type CartCommand =
  OpenCart | AddItem | ChangeItemQuantity | RemoveItem | RepriceCart | CheckOutCart | AbandonCart;
