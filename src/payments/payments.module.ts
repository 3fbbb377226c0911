import { Module } from '@nestjs/common';
import { PaymentSignatureGuard } from './http/payment-signature.guard.js';
import { PaymentWebhookController } from './http/payment-webhook.controller.js';
import { RecordProviderEventHandler } from './record-provider-event.js';

/** The payment provider's side: its signed webhook, turned into order commands. */
@Module({
  controllers: [PaymentWebhookController],
  providers: [RecordProviderEventHandler, PaymentSignatureGuard],
})
export class PaymentsModule {}
