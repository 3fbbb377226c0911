/** The secrets the tests' service and clients share. */
export const TEST_JWT_SECRET = 'test-secret-for-ordertrail-e2e-0123456789';
/** What the tests' payment provider signs its webhooks with. */
export const TEST_PAYMENT_WEBHOOK_SECRET = 'test-payment-webhook-secret-for-ordertrail-0123456789';
