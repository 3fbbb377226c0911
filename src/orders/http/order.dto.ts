import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { IsInstant, PageQueryDto } from '../../shared/http/read-response.js';
import type { OrderSort } from '../application/queries/list-orders/list-orders.query.js';

const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'] as const;
const ORDER_SORTS: readonly OrderSort[] = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'total',
  '-total',
];
import { MAX_MINOR_UNITS, SKU_PATTERN } from '../../shared/domain/index.js';

const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export class PayOrderDto {
  @IsString()
  @Length(1, 100)
  @Matches(TOKEN, { message: 'paymentId must be printable ASCII without surrounding spaces' })
  paymentId!: string;

  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(0)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class ShipOrderDto {
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'carrier must not be blank' })
  carrier!: string;

  @IsString()
  @Length(1, 100)
  @Matches(TOKEN, { message: 'trackingNumber must be printable ASCII without surrounding spaces' })
  trackingNumber!: string;
}

export class RefundOrderDto {
  @IsInt({ message: 'amount must be an integer number of minor units (e.g. cents)' })
  @Min(1)
  @Max(MAX_MINOR_UNITS)
  amount!: number;
}

export class CancelOrderDto {
  @IsString()
  @Length(1, 500)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}

/** `GET /orders` filters: every value a scalar string (arrays and bracketed keys are refused). */
export class ListOrdersDto extends PageQueryDto {
  @IsOptional()
  @IsIn(ORDER_STATUSES, { message: `status must be one of: ${ORDER_STATUSES.join(', ')}` })
  status?: (typeof ORDER_STATUSES)[number];

  @IsOptional()
  @IsInstant()
  from?: string;

  @IsOptional()
  @IsInstant()
  to?: string;

  @IsOptional()
  @IsString()
  @Matches(/^\d{1,13}$/, { message: 'minTotal must be a whole number of minor units' })
  minTotal?: string;

  @IsOptional()
  @IsString()
  @Matches(/^\d{1,13}$/, { message: 'maxTotal must be a whole number of minor units' })
  maxTotal?: string;

  @IsOptional()
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"' })
  sku?: string;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  customerId?: string;

  @IsOptional()
  @IsIn(ORDER_SORTS, { message: `sort must be one of: ${ORDER_SORTS.join(', ')}` })
  sort?: OrderSort;
}
