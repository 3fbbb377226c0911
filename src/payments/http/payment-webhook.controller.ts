import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignedByPaymentProvider } from '../../auth/roles.decorator.js';
import { etag, revisionJson } from '../../shared/http/mutation-response.js';
import { lenientBody } from '../../shared/http/validation.js';
import { RecordProviderEvent } from '../record-provider-event.js';
import { SIGNATURE_TOLERANCE_SECONDS } from '../webhook-signature.js';
import { PaymentSignatureGuard } from './payment-signature.guard.js';
import { PaymentWebhookDto, PaymentWebhookResultDto } from './payment-webhook.dto.js';

/**
 * `POST /webhooks/payments`: the payment provider tells the shop what happened to a payment. No bearer token:
 * the provider signs the raw body instead (PaymentSignatureGuard).
 */
@ApiTags('payments')
@Controller('webhooks')
export class PaymentWebhookController {
  constructor(private readonly commands: CommandBus) {}

  @Post('payments')
  @SignedByPaymentProvider()
  @UseGuards(PaymentSignatureGuard)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Payment provider webhook: payment.succeeded, payment.failed, refund.succeeded (signed)',
    description:
      'Signed with PAYMENT_WEBHOOK_SECRET: `Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of ' +
      '"<t>.<raw body>">`. A bad, missing or stale (more than ' +
      `${SIGNATURE_TOLERANCE_SECONDS} s) signature is 401 and writes nothing. The same event id again is 200 ` +
      'with `replayed: true` and writes nothing. A payment whose amount or currency does not settle the order is ' +
      'recorded as a payment exception for an operator; one for a cancelled order is recorded and refunded.',
  })
  @ApiHeader({
    name: 'Payment-Signature',
    required: true,
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<raw body>">',
  })
  @ApiResponse({ status: 200, type: PaymentWebhookResultDto, description: 'Applied (or applied before)' })
  @ApiBody({ type: PaymentWebhookDto, description: 'Fields this service does not know are ignored' })
  async receive(
    // Typed unknown: the global strict pipe must not see the class (a provider's extra fields are ignored).
    @Body(lenientBody(PaymentWebhookDto)) received: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PaymentWebhookResultDto> {
    const body = received as PaymentWebhookDto;
    const result = await this.commands.execute(new RecordProviderEvent(body, request.correlationId));
    void reply.header('etag', etag(result.revision));
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return {
      received: true,
      orderId: result.id,
      revision: revisionJson(result.revision),
      replayed: result.replayed,
    };
  }
}
