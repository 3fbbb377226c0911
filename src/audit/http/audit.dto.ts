import { applyDecorators } from '@nestjs/common';
import { ApiHideProperty, ApiPropertyOptional, ApiQuery } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, ValidateBy } from 'class-validator';
import { revisionDoc } from '../../shared/http/openapi.js';
import { IsInstant, instantDoc } from '../../shared/http/read-response.js';
import { AUDITED_EVENT_TYPES, auditedStream, isAuditedKind } from '../application/audited-aggregates.js';

const ANY_TYPE = `(?:${AUDITED_EVENT_TYPES.join('|')})`;
/** What `types` may be, for the document: known types only (the handler refuses others with a 400). */
const TYPES_PATTERN = `^${ANY_TYPE}(?:,${ANY_TYPE}){0,31}$`;
const STORED_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
/** What `streamPrefix` may be, for the document: a kind, or one audited stream (see auditedStream). */
const STREAM_PREFIX_PATTERN = `^(?:cart|order|product|(?:cart|order)-${STORED_UUID}|product-[A-Za-z0-9._-]{1,64})$`;

const REVISION = /^\d{1,15}$/;
const revisionMessage = (field: string) => ({
  message: `${field} must be a revision: a whole number from 0`,
});

/**
 * `?atRevision=N` or `?asOf=<instant>` (exactly one). The fields are documented together, as one exploded object
 * parameter (see ApiStatePoint): separate parameters could not say that they exclude each other.
 */
export class StateQueryDto {
  @ApiHideProperty()
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('atRevision'))
  atRevision?: string;

  @ApiHideProperty()
  @IsOptional()
  @IsInstant()
  asOf?: string;
}

/** `from`/`fromAsOf` (exactly one) and optionally `to`/`toAsOf` (at most one; default: the latest revision). */
export class DiffQueryDto {
  @ApiHideProperty()
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('from'))
  from?: string;

  @ApiHideProperty()
  @IsOptional()
  @IsString()
  @Matches(REVISION, revisionMessage('to'))
  to?: string;

  @ApiHideProperty()
  @IsOptional()
  @IsInstant()
  fromAsOf?: string;

  @ApiHideProperty()
  @IsOptional()
  @IsInstant()
  toAsOf?: string;
}

/**
 * One point of a stream given as a revision or an instant, as an OpenAPI query parameter: an object whose
 * properties are the query parameters themselves (`style: form, explode: true`), with at most one of them — the
 * only way OpenAPI 3.0 can say that two parameters exclude each other.
 */
function pointParameter(
  name: string,
  [revision, asOf]: [string, string],
  required: boolean,
  description: string,
): MethodDecorator {
  return ApiQuery({
    name,
    required,
    style: 'form',
    explode: true,
    description,
    schema: {
      type: 'object',
      properties: {
        [revision]: revisionDoc(`A revision (0-based); not with ${asOf}`),
        [asOf]: instantDoc(
          `The state after the last event recorded at or before this instant; not with ${revision}`,
        ),
      },
      additionalProperties: false,
      ...(required && { minProperties: 1 }),
      maxProperties: 1,
    },
  });
}

/** The query of a state route: exactly one of atRevision and asOf. */
export const ApiStatePoint = (): MethodDecorator =>
  pointParameter('point', ['atRevision', 'asOf'], true, 'Exactly one of `atRevision` and `asOf`');

/** The query of a diff route: exactly one of from and fromAsOf, at most one of to and toAsOf. */
export const ApiDiffPoints = (): MethodDecorator =>
  applyDecorators(
    pointParameter('fromPoint', ['from', 'fromAsOf'], true, 'Exactly one of `from` and `fromAsOf`'),
    pointParameter(
      'toPoint',
      ['to', 'toAsOf'],
      false,
      'At most one of `to` and `toAsOf` (default: the latest revision)',
    ),
  );

export const STREAM_PAGE_DEFAULT = 100;

/** `?from&limit&direction` of a stream's raw events. */
export class StreamEventsQueryDto {
  @ApiPropertyOptional(revisionDoc('First revision (inclusive); default: the first, or the last backwards'))
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
    pattern: TYPES_PATTERN,
    description: `Known event types, comma-separated (1 to 32): ${AUDITED_EVENT_TYPES.join(', ')}`,
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{1,64}(?:,[A-Za-z]{1,64}){0,31}$/, {
    message: 'types must be event types separated by commas, e.g. CartCheckedOut,OrderPlaced',
  })
  types?: string;

  @ApiPropertyOptional({
    example: 'cart',
    pattern: STREAM_PREFIX_PATTERN,
    description:
      'cart, order, product, or one stream: cart-<uuid> / order-<uuid> (lower-case, as ids are stored) / product-<sku>',
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

  @ApiPropertyOptional(instantDoc('Events recorded at or after this instant'))
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional(instantDoc('Events recorded at or before this instant'))
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional(
    revisionDoc(
      "Resume: events strictly after this position, one the store returned (an event's `position`, a replay's `resumeAfterPosition`) (leave it out to start at the beginning); any other is 400 INVALID_POSITION",
    ),
  )
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
