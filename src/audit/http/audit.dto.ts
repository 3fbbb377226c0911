import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, ValidateBy } from 'class-validator';
import { IsInstant } from '../../shared/http/read-response.js';
import { auditedStream, isAuditedKind } from '../application/audited-aggregates.js';

const REVISION = /^\d{1,15}$/;
const revisionMessage = (field: string) => ({
  message: `${field} must be a revision: a whole number from 0`,
});

/** `?atRevision=N` or `?asOf=<instant>` (exactly one). */
export class StateQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'A revision (exactly one of atRevision, asOf)',
  })
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('atRevision'))
  atRevision?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-05-02T14:03:00.000Z',
    description: 'An instant with a zone: the state after the last event recorded at or before it',
  })
  @IsOptional()
  @IsInstant()
  asOf?: string;
}

/** `from`/`fromAsOf` (one of them) and optionally `to`/`toAsOf` (default: the latest revision). */
export class DiffQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'From this revision (or fromAsOf)' })
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('from'))
  from?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'To this revision (or toAsOf; default: the latest)',
  })
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('to'))
  to?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'From the state as of this instant' })
  @IsOptional()
  @IsInstant()
  fromAsOf?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'To the state as of this instant' })
  @IsOptional()
  @IsInstant()
  toAsOf?: string;
}

export const STREAM_PAGE_DEFAULT = 100;

/** `?from&limit&direction` of a stream's raw events. */
export class StreamEventsQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'First revision (inclusive); default: the first, or the last backwards',
  })
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('from'))
  from?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9]\d{0,2}|1000)$/, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: string;

  @ApiPropertyOptional({ enum: ['forwards', 'backwards'], default: 'forwards' })
  @IsOptional()
  @IsIn(['forwards', 'backwards'], { message: 'direction must be forwards or backwards' })
  direction?: 'forwards' | 'backwards';
}

/** `GET /audit/events` filters; every value one plain string. */
export class ReplayQueryDto {
  @ApiPropertyOptional({
    example: 'CartCheckedOut,OrderPlaced',
    description: 'Known cart, order or product event types, comma-separated',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{1,64}(?:,[A-Za-z]{1,64}){0,31}$/, {
    message: 'types must be event types separated by commas, e.g. CartCheckedOut,OrderPlaced',
  })
  types?: string;

  @ApiPropertyOptional({
    example: 'cart',
    description: 'cart, order, product, or one stream: cart-<uuid> / order-<uuid> / product-<sku>',
  })
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'isStreamPrefix',
    // A kind, or one stream whose id that kind's own rule accepts (uuid for carts and orders, sku for products).
    validator: {
      validate: (value) =>
        typeof value === 'string' && (isAuditedKind(value) || auditedStream(value) !== null),
      defaultMessage: () =>
        'streamPrefix must be cart, order, product, or one stream: cart-<uuid>, order-<uuid> or product-<sku>',
    },
  })
  streamPrefix?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events recorded at or after this instant' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events recorded at or before this instant' })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'Resume: events strictly after this position',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}$/, { message: 'afterPosition must be a position: a whole number from 0' })
  afterPosition?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 9999999,
    description: 'At most this many events',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9]\d{0,6}$/, { message: 'limit must be a whole number from 1 to 9999999' })
  limit?: string;
}
