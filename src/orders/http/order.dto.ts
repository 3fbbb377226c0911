import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { CURRENCY_PATTERN, MAX_MINOR_UNITS, SKU_PATTERN } from '../../shared/domain/index.js';
import { REFUND_STATES } from '../read-model/order-search.projection.js';
import { LineDto } from '../../shared/http/openapi.js';
import {
  IsInstant,
  CachedPageQueryDto,
  ListMetaDto,
  ReadMetaDto,
  instantDoc,
} from '../../shared/http/read-response.js';
import { CodePointLength, NOT_BLANK } from '../../shared/http/text.js';
import type { OrderSort } from '../read-model/list-orders.query.js';

const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
const ORDER_SORTS: readonly OrderSort[] = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'total',
  '-total',
];

const MINOR_UNITS = 'integer number of minor units (e.g. cents) of the order currency';
/** `minTotal`/`maxTotal`: up to 13 digits (`^\d{1,13}$`). */
const MAX_TOTAL_FILTER = 9_999_999_999_999;

const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** An operator records a payment the provider did not report (a bank transfer, a till): with a reason. */
export class ManualPaymentDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 100,
    pattern: TOKEN.source,
    example: 'bank-transfer-2026-12-07-17',
    description: 'Printable ASCII without surrounding spaces',
  })
  @IsString()
  @CodePointLength(1, 100)
  @Matches(TOKEN, { message: 'paymentId must be printable ASCII without surrounding spaces' })
  paymentId!: string;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: MAX_MINOR_UNITS,
    description: `The order total, ${MINOR_UNITS}`,
  })
  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(1)
  @Max(MAX_MINOR_UNITS)
  amount!: number;

  @ApiProperty({ pattern: CURRENCY_PATTERN.source, example: 'EUR', description: 'The order currency' })
  @IsString()
  @Matches(CURRENCY_PATTERN, { message: 'currency must be an ISO 4217 code in capitals, e.g. EUR' })
  currency!: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 500,
    pattern: NOT_BLANK.source,
    example: 'paid by bank transfer, ref 2026-17',
    description: 'Not blank',
  })
  @IsString()
  @CodePointLength(1, 500)
  @Matches(NOT_BLANK, { message: 'reason must not be blank' })
  reason!: string;
}

export class ShipOrderDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 100,
    pattern: NOT_BLANK.source,
    example: 'UPS',
    description: 'Not blank',
  })
  @IsString()
  @CodePointLength(1, 100)
  @Matches(NOT_BLANK, { message: 'carrier must not be blank' })
  carrier!: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 100,
    pattern: TOKEN.source,
    example: '1Z999AA10123456784',
    description: 'Printable ASCII without surrounding spaces',
  })
  @IsString()
  @CodePointLength(1, 100)
  @Matches(TOKEN, { message: 'trackingNumber must be printable ASCII without surrounding spaces' })
  trackingNumber!: string;
}

export class RefundOrderDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: MAX_MINOR_UNITS,
    description: `At most what was paid, ${MINOR_UNITS}`,
  })
  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(1)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class CancelOrderDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 500,
    pattern: NOT_BLANK.source,
    example: 'changed my mind',
    description: 'Not blank',
  })
  @IsString()
  @CodePointLength(1, 500)
  @Matches(NOT_BLANK, { message: 'reason must not be blank' })
  reason!: string;
}

/** `GET /orders` filters: every value a scalar string (arrays and bracketed keys are refused). */
export class ListOrdersDto extends CachedPageQueryDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES, { message: `status must be one of: ${ORDER_STATUSES.join(', ')}` })
  status?: (typeof ORDER_STATUSES)[number];

  @ApiPropertyOptional(instantDoc('Created at or after (inclusive)'))
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional(instantDoc('Created at or before (inclusive)'))
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_TOTAL_FILTER,
    description: `Total at least, ${MINOR_UNITS}`,
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,13}$/, { message: 'minTotal must be a whole number of minor units' })
  minTotal?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_TOTAL_FILTER,
    description: `Total at most, ${MINOR_UNITS}`,
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,13}$/, { message: 'maxTotal must be a whole number of minor units' })
  maxTotal?: string;

  @ApiPropertyOptional({ pattern: SKU_PATTERN.source, description: 'Orders containing this sku' })
  @IsOptional()
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' })
  sku?: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 200,
    description: 'Operators and auditors only; a shopper always sees their own',
  })
  @IsOptional()
  @IsString()
  @CodePointLength(1, 200)
  customerId?: string;

  @ApiPropertyOptional({
    enum: REFUND_STATES,
    description: '`due`: money held that the order may not keep (a cancelled order paid); `done`: refunded',
  })
  @IsOptional()
  @IsIn(REFUND_STATES, { message: `refund must be one of: ${REFUND_STATES.join(', ')}` })
  refund?: (typeof REFUND_STATES)[number];

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Orders with (true) or without (false) a payment that did not settle them',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'paymentException must be true or false' })
  paymentException?: 'true' | 'false';

  @ApiPropertyOptional({ enum: ORDER_SORTS, default: '-createdAt' })
  @IsOptional()
  @IsIn(ORDER_SORTS, { message: `sort must be one of: ${ORDER_SORTS.join(', ')}` })
  sort?: OrderSort;
}

// Answers (documentation only: the controllers answer the query handlers' views).

export class ShipmentDto {
  @ApiProperty()
  carrier!: string;
  @ApiProperty()
  trackingNumber!: string;
}

export class PaymentExceptionDto {
  @ApiProperty()
  paymentId!: string;
  @ApiProperty({ description: MINOR_UNITS })
  amount!: number;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ enum: ['amount-mismatch', 'currency-mismatch', 'already-paid', 'refund-not-made'] })
  reason!: string;
}

export class OrderViewDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ format: 'uuid' })
  cartId!: string;
  @ApiProperty()
  customerId!: string;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ enum: ORDER_STATUSES })
  status!: string;
  @ApiProperty({ type: [LineDto] })
  lines!: LineDto[];
  @ApiProperty({ description: MINOR_UNITS })
  total!: number;
  @ApiProperty({ description: MINOR_UNITS })
  paid!: number;
  @ApiProperty({ description: MINOR_UNITS })
  refunded!: number;
  @ApiProperty({ description: `Held and not to be kept (a cancelled order's payment), ${MINOR_UNITS}` })
  refundDue!: number;
  @ApiProperty({ description: `Refunds the payment provider confirmed, ${MINOR_UNITS}` })
  refundsSettled!: number;
  @ApiProperty({ nullable: true, type: String })
  paymentId!: string | null;
  @ApiProperty({ type: [PaymentExceptionDto], description: 'Captures that did not settle the order' })
  paymentExceptions!: PaymentExceptionDto[];
  @ApiProperty({ minimum: 0, description: 'Payment attempts the provider reported failed' })
  failedPayments!: number;
  @ApiProperty({ nullable: true, type: ShipmentDto })
  shipment!: ShipmentDto | null;
  @ApiProperty({ nullable: true, type: String })
  cancellationReason!: string | null;
}

export class OrderReadDto {
  @ApiProperty({ type: OrderViewDto })
  data!: OrderViewDto;
  @ApiProperty({ type: ReadMetaDto })
  meta!: ReadMetaDto;
}

export class OrderListItemDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty()
  customerId!: string;
  @ApiProperty({ enum: ORDER_STATUSES })
  status!: string;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ description: MINOR_UNITS })
  total!: number;
  @ApiProperty({ type: [String] })
  skus!: string[];
  @ApiProperty({ enum: REFUND_STATES })
  refund!: string;
  @ApiProperty()
  paymentException!: boolean;
  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
  @ApiProperty({ minimum: 0 })
  revision!: number;
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderListItemDto] })
  items!: OrderListItemDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as ?cursor= for the next page; null: last page',
  })
  nextCursor!: string | null;
  @ApiProperty({ type: ListMetaDto })
  meta!: ListMetaDto;
}

export class TimelineItemDto {
  @ApiProperty({ format: 'uuid' })
  orderId!: string;
  @ApiProperty()
  customerId!: string;
  @ApiProperty({ example: 'OrderPaid', description: 'The event type' })
  type!: string;
  @ApiProperty({ example: 'Paid €12.99 (payment pay-7f3a)' })
  summary!: string;
  @ApiProperty({ format: 'date-time', description: 'Store time of the event' })
  at!: string;
  @ApiProperty({ minimum: 0 })
  revision!: number;
  @ApiProperty({ nullable: true, type: String, description: 'Who caused it (token subject)' })
  actor!: string | null;
  @ApiProperty({ format: 'uuid' })
  eventId!: string;
  @ApiProperty({ description: 'Global position; entries are in this order' })
  position!: number;
}

export class TimelinePageDto {
  @ApiProperty({ type: [TimelineItemDto] })
  items!: TimelineItemDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as ?cursor= for the next page; null: last page',
  })
  nextCursor!: string | null;
  @ApiProperty({ type: ListMetaDto })
  meta!: ListMetaDto;
}
