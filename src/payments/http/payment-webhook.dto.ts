import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { CURRENCY_PATTERN, MAX_MINOR_UNITS } from '../../shared/domain/index.js';
import { CodePointLength } from '../../shared/http/text.js';
import { PROVIDER_EVENT_TYPES, type ProviderEventType } from '../provider-event.js';

const TOKEN = /^[\x21-\x7e]+$/;

export class ProviderEventDataDto {
  @ApiProperty({ format: 'uuid', description: 'The order the payment is for' })
  @IsUUID('all', { message: 'data.orderId must be a UUID' })
  orderId!: string;

  @ApiProperty({ minLength: 1, maxLength: 100, pattern: TOKEN.source, example: 'pi_3QxYz' })
  @IsString()
  @CodePointLength(1, 100)
  @Matches(TOKEN, { message: 'paymentId must be visible ASCII' })
  paymentId!: string;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: MAX_MINOR_UNITS,
    description: 'Integer minor units (e.g. cents)',
  })
  @IsInt({ message: 'amount must be an integer number of minor units' })
  @Min(1)
  @Max(MAX_MINOR_UNITS)
  amount!: number;

  @ApiProperty({ pattern: CURRENCY_PATTERN.source, example: 'EUR' })
  @IsString()
  @Matches(CURRENCY_PATTERN, { message: 'currency must be an ISO 4217 code in capitals, e.g. EUR' })
  currency!: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 500,
    nullable: true,
    description: 'Why the payment failed (payment.failed); null: not given',
  })
  @IsOptional()
  @IsString()
  @CodePointLength(1, 500)
  failureReason?: string;
}

/** The payment provider's webhook body (signed: see the Payment-Signature header). */
export class PaymentWebhookDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 255,
    pattern: TOKEN.source,
    example: 'evt_1QxYz',
    description: "The provider's event id",
  })
  @IsString()
  @CodePointLength(1, 255)
  @Matches(TOKEN, { message: 'id must be visible ASCII' })
  id!: string;

  @ApiProperty({ enum: PROVIDER_EVENT_TYPES })
  @IsIn(PROVIDER_EVENT_TYPES, { message: `type must be one of: ${PROVIDER_EVENT_TYPES.join(', ')}` })
  type!: ProviderEventType;

  @ApiProperty({ type: ProviderEventDataDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ProviderEventDataDto)
  data!: ProviderEventDataDto;
}

export class PaymentWebhookResultDto {
  @ApiProperty({ description: 'Applied now, or earlier (a redelivery: nothing was written)' })
  received!: boolean;
  @ApiProperty({ format: 'uuid' })
  orderId!: string;
  @ApiProperty({ minimum: 0, description: "The order's revision after the event" })
  revision!: number;
  @ApiProperty({ description: 'True when this event id was applied before: nothing was written now' })
  replayed!: boolean;
}
