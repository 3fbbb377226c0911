export type PlaceOrder = {
  type: 'PlaceOrder';
  data: {
    orderId: string;
    cartId: string;
    customerId: string;
    currency: string;
    lines: { sku: string; name: string; quantity: number; unitPrice: number }[];
  };
};
export type PayOrder = { type: 'PayOrder'; data: { paymentId: string; amount: number } };
export type ShipOrder = { type: 'ShipOrder'; data: { carrier: string; trackingNumber: string } };
export type DeliverOrder = { type: 'DeliverOrder'; data: Record<string, never> };
export type CancelOrder = { type: 'CancelOrder'; data: { reason: string } };
export type RefundOrder = { type: 'RefundOrder'; data: { amount: number } };

export type OrderCommand = PlaceOrder | PayOrder | ShipOrder | DeliverOrder | CancelOrder | RefundOrder;
