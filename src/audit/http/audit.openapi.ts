import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CartViewDto } from '../../carts/http/cart.dto.js';
import { ProductStateViewDto } from '../../catalog/http/product.dto.js';
import { OrderViewDto } from '../../orders/http/order.dto.js';
import { ANY_JSON, LineDto } from '../../shared/http/openapi.js';

// Answers of the audit routes (documentation only: the controllers answer the query handlers' results).

const INSTANT = 'UTC ISO-8601 with milliseconds';

export class AuditEventDto {
  @ApiProperty({ minimum: 0, description: 'Global position (resume a replay after it with afterPosition)' })
  position!: number;
  @ApiProperty({ example: 'cart-0b9f3f7e-8a61-4d3e-9a55-1c2b3d4e5f60' })
  stream!: string;
  @ApiProperty({ minimum: 0, description: '0-based revision in its stream' })
  revision!: number;
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ example: 'ItemAdded' })
  type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true })
  data!: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'As stored: actor, correlationId, causationId, idempotencyKey, occurredAt, schemaVersion, command, …',
  })
  metadata!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time', description: `When the store recorded it, ${INSTANT}` })
  created!: string;
}

export class PointMetaDto {
  @ApiProperty({ minimum: 0, description: 'The revision the state reflects' })
  revision!: number;
  @ApiProperty({ format: 'date-time', description: `When that revision's event was recorded, ${INSTANT}` })
  at!: string;
  @ApiProperty({ enum: ['event-store'] })
  source!: string;
}

export class CartStateDto {
  @ApiProperty({ type: CartViewDto })
  data!: CartViewDto;
  @ApiProperty({ type: PointMetaDto })
  meta!: PointMetaDto;
}

export class OrderStateDto {
  @ApiProperty({ type: OrderViewDto })
  data!: OrderViewDto;
  @ApiProperty({ type: PointMetaDto })
  meta!: PointMetaDto;
}

export class ProductStateDto {
  @ApiProperty({ type: ProductStateViewDto })
  data!: ProductStateViewDto;
  @ApiProperty({ type: PointMetaDto })
  meta!: PointMetaDto;
}

export class DiffPointDto {
  @ApiProperty({ minimum: 0 })
  revision!: number;
  @ApiProperty({ format: 'date-time' })
  at!: string;
}

export class FieldChangeDto {
  @ApiProperty({ example: 'quantity' })
  field!: string;
  @ApiProperty({ ...ANY_JSON, description: 'Any JSON value (objects are reported whole)' })
  from!: unknown;
  @ApiProperty({ ...ANY_JSON, description: 'Any JSON value (objects are reported whole)' })
  to!: unknown;
}

export class LineChangeDto {
  @ApiProperty({ example: 'sku-42' })
  sku!: string;
  @ApiProperty({ type: [FieldChangeDto] })
  changes!: FieldChangeDto[];
}

class LinesDiffDto {
  @ApiProperty({ type: [LineChangeDto] })
  changed!: LineChangeDto[];
  @ApiPropertyOptional({
    type: [String],
    description: 'The skus of `to` in order, only when removing, changing and appending does not give it',
  })
  order?: string[];
}

class CartLinesDiffDto extends LinesDiffDto {
  @ApiProperty({ type: [LineDto] })
  added!: LineDto[];
  @ApiProperty({ type: [LineDto] })
  removed!: LineDto[];
}

class OrderLinesDiffDto extends LinesDiffDto {
  @ApiProperty({ type: [LineDto] })
  added!: LineDto[];
  @ApiProperty({ type: [LineDto] })
  removed!: LineDto[];
}

class CartChangesDto {
  @ApiProperty({ type: [FieldChangeDto], description: 'Top-level fields that differ (status, total, …)' })
  fields!: FieldChangeDto[];
  @ApiProperty({ type: CartLinesDiffDto })
  lines!: CartLinesDiffDto;
}

class OrderChangesDto {
  @ApiProperty({ type: [FieldChangeDto], description: 'Top-level fields that differ (status, paid, …)' })
  fields!: FieldChangeDto[];
  @ApiProperty({ type: OrderLinesDiffDto })
  lines!: OrderLinesDiffDto;
}

class ProductChangesDto {
  @ApiProperty({
    type: [FieldChangeDto],
    description:
      'Fields that differ (name, status, prices: a product has no lines; prices are reported whole)',
  })
  fields!: FieldChangeDto[];
}

class DiffMetaDto {
  @ApiProperty({ enum: ['event-store'] })
  source!: string;
  @ApiProperty({ description: 'Events between the two points' })
  eventCount!: number;
  @ApiProperty({ description: 'True when more than the 1,000 listed events lie between them' })
  eventsTruncated!: boolean;
}

class CartDiffDataDto {
  @ApiProperty({ type: DiffPointDto })
  from!: DiffPointDto;
  @ApiProperty({ type: DiffPointDto })
  to!: DiffPointDto;
  @ApiProperty({ type: CartChangesDto })
  changes!: CartChangesDto;
  @ApiProperty({ type: [AuditEventDto], description: 'The events after `from` up to and including `to`' })
  events!: AuditEventDto[];
}

class OrderDiffDataDto {
  @ApiProperty({ type: DiffPointDto })
  from!: DiffPointDto;
  @ApiProperty({ type: DiffPointDto })
  to!: DiffPointDto;
  @ApiProperty({ type: OrderChangesDto })
  changes!: OrderChangesDto;
  @ApiProperty({ type: [AuditEventDto], description: 'The events after `from` up to and including `to`' })
  events!: AuditEventDto[];
}

class ProductDiffDataDto {
  @ApiProperty({ type: DiffPointDto })
  from!: DiffPointDto;
  @ApiProperty({ type: DiffPointDto })
  to!: DiffPointDto;
  @ApiProperty({ type: ProductChangesDto })
  changes!: ProductChangesDto;
  @ApiProperty({ type: [AuditEventDto], description: 'The events after `from` up to and including `to`' })
  events!: AuditEventDto[];
}

export class CartDiffDto {
  @ApiProperty({ type: CartDiffDataDto })
  data!: CartDiffDataDto;
  @ApiProperty({ type: DiffMetaDto })
  meta!: DiffMetaDto;
}

export class OrderDiffDto {
  @ApiProperty({ type: OrderDiffDataDto })
  data!: OrderDiffDataDto;
  @ApiProperty({ type: DiffMetaDto })
  meta!: DiffMetaDto;
}

export class ProductDiffDto {
  @ApiProperty({ type: ProductDiffDataDto })
  data!: ProductDiffDataDto;
  @ApiProperty({ type: DiffMetaDto })
  meta!: DiffMetaDto;
}

export class StreamEventsPageDto {
  @ApiProperty()
  stream!: string;
  @ApiProperty({ minimum: 0 })
  lastRevision!: number;
  @ApiProperty({ type: [AuditEventDto] })
  items!: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String, description: 'URL of the next page (same direction)' })
  next!: string | null;
}

export class CorrelationPageDto {
  @ApiProperty()
  correlationId!: string;
  @ApiProperty({ type: [AuditEventDto] })
  items!: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}
