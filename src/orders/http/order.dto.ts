import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { MAX_MINOR_UNITS, SKU_PATTERN } from '../../shared/domain/index.js';
import { LineDto } from '../../shared/http/openapi.js';
import { IsInstant, PageQueryDto, ReadMetaDto } from '../../shared/http/read-response.js';
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
const INSTANT_DOC = {
  description: 'ISO-8601 instant with a zone (2026-05-02T14:03:00Z) or a date (00:00 UTC), inclusive',
  example: '2026-05-02T14:03:00Z',
};

const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export class PayOrderDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'pay-7f3a' })
  @IsString()
  @Length(1, 100)
  @Matches(TOKEN, { message: 'paymentId must be printable ASCII without surrounding spaces' })
  paymentId!: string;

  @ApiProperty({ minimum: 0, maximum: MAX_MINOR_UNITS, description: `The order total, ${MINOR_UNITS}` })
  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(0)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class ShipOrderDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'UPS' })
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'carrier must not be blank' })
  carrier!: string;

  @ApiProperty({ minLength: 1, maxLength: 100, example: '1Z999AA10123456784' })
  @IsString()
  @Length(1, 100)
  @Matches(TOKEN, { message: 'trackingNumber must be printable ASCII without surrounding spaces' })
  trackingNumber!: string;
}

export class RefundOrderDto {
  @ApiProperty({ minimum: 1, maximum: MAX_MINOR_UNITS, description: `At most what was paid, ${MINOR_UNITS}` })
  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(1)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class CancelOrderDto {
  @ApiProperty({ minLength: 1, maxLength: 500, example: 'changed my mind' })
  @IsString()
  @Length(1, 500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}

/** `GET /orders` filters: every value a scalar string (arrays and bracketed keys are refused). */
export class ListOrdersDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES, { message: `status must be one of: ${ORDER_STATUSES.join(', ')}` })
  status?: (typeof ORDER_STATUSES)[number];

  @ApiPropertyOptional({ ...INSTANT_DOC, description: `Created at or after: ${INSTANT_DOC.description}` })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ ...INSTANT_DOC, description: `Created at or before: ${INSTANT_DOC.description}` })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: `Total at least, ${MINOR_UNITS}` })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,13}$/, { message: 'minTotal must be a whole number of minor units' })
  minTotal?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: `Total at most, ${MINOR_UNITS}` })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,13}$/, { message: 'maxTotal must be a whole number of minor units' })
  maxTotal?: string;

  @ApiPropertyOptional({ pattern: SKU_PATTERN.source, description: 'Orders containing this sku' })
  @IsOptional()
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' })
  sku?: string;

  @ApiPropertyOptional({ description: 'Operators and auditors only; a shopper always sees their own' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  customerId?: string;

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
  @ApiProperty({ nullable: true, type: String })
  paymentId!: string | null;
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
}
