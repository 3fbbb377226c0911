export type OpenCart = { type: 'OpenCart'; data: { cartId: string; customerId: string; currency: string } };
export type AddItem = {
  type: 'AddItem';
  data: { sku: string; name: string; quantity: number; unitPrice: number };
};
export type ChangeItemQuantity = { type: 'ChangeItemQuantity'; data: { sku: string; quantity: number } };
export type RemoveItem = { type: 'RemoveItem'; data: { sku: string } };
export type CheckOutCart = { type: 'CheckOutCart'; data: { orderId: string } };
export type AbandonCart = { type: 'AbandonCart'; data: { reason: string | null } };

export type CartCommand = OpenCart | AddItem | ChangeItemQuantity | RemoveItem | CheckOutCart | AbandonCart;
