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
/** A payment the provider captured (or an operator recorded by hand). */
export type RecordPayment = {
  type: 'RecordPayment';
  data: { paymentId: string; amount: number; currency: string };
};
export type RecordPaymentFailure = {
  type: 'RecordPaymentFailure';
  data: { paymentId: string; reason: string };
};
export type RecordRefundSettlement = {
  type: 'RecordRefundSettlement';
  data: { paymentId: string; amount: number; currency: string };
};
export type ShipOrder = { type: 'ShipOrder'; data: { carrier: string; trackingNumber: string } };
export type DeliverOrder = { type: 'DeliverOrder'; data: Record<string, never> };
export type CancelOrder = { type: 'CancelOrder'; data: { reason: string } };
export type RefundOrder = { type: 'RefundOrder'; data: { amount: number } };
/** Refunds whatever the shop holds and may not keep (see `refundDue`); nothing when nothing is due. */
export type RefundBalance = { type: 'RefundBalance'; data: Record<string, never> };

export type OrderCommand =
  | PlaceOrder
  | RecordPayment
  | RecordPaymentFailure
  | RecordRefundSettlement
  | ShipOrder
  | DeliverOrder
  | CancelOrder
  | RefundOrder
  | RefundBalance;
