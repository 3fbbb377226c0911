import type { CartCommand, CatalogOffer } from '../../src/carts/domain/cart.commands.js';
import type { CartState } from '../../src/carts/domain/cart.state.js';

/** What the catalog offers for a sku sold at `unitPrice` under `name`. */
export function offered(sku: string, name: string, unitPrice: number): CatalogOffer {
  return { sku, available: true, name, unitPrice };
}

/** AddItem as the handler sends it: the catalog offered `unitPrice` and `name` for the sku. */
export function addItem(sku: string, name: string, quantity: number, unitPrice: number): CartCommand {
  return { type: 'AddItem', data: { sku, quantity, offer: offered(sku, name, unitPrice) } };
}

/** The catalog's offers when its prices are still the ones the cart's lines hold. */
export function offersAsInCart(state: CartState): CatalogOffer[] {
  return state.lines.map(({ sku, name, unitPrice }) => offered(sku, name, unitPrice));
}

/** CheckOutCart with the catalog unchanged since the items were added. */
export function checkOutAsPriced(orderId: string, state: CartState): CartCommand {
  return { type: 'CheckOutCart', data: { orderId, offers: offersAsInCart(state) } };
}
