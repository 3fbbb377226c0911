import { applyDecorators, type Type } from '@nestjs/common';
import { ApiHeader, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { SKU_PATTERN } from '../domain/index.js';
import { IDEMPOTENCY_KEY, IF_MATCH_PATTERN } from './command-context.decorator.js';

export const SKU_DOC = {
  pattern: SKU_PATTERN.source,
  example: 'sku-42',
  description: '1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"',
};

const MINOR_UNITS = 'integer number of minor units (e.g. cents) of the cart or order currency';

/** One line of a cart, or of an order (which keeps its cart's lines as they were at checkout). */
export class LineDto {
  @ApiProperty(SKU_DOC)
  sku!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ minimum: 1, maximum: 999 })
  quantity!: number;
  @ApiProperty({ description: MINOR_UNITS })
  unitPrice!: number;
  @ApiProperty({ description: `quantity × unitPrice, ${MINOR_UNITS}` })
  lineTotal!: number;
}

/**
 * Any JSON value (or null) in an answer: OpenAPI 3.0 has no "any" type, and @nestjs/swagger would write a field
 * typed `unknown` as `type: object`.
 */
export const ANY_JSON = {
  oneOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'object' },
    { type: 'array', items: {} },
  ],
  nullable: true,
};

/** `{id, revision}`: what every mutation answers. */
export class MutationResultDto {
  @ApiProperty({ format: 'uuid', description: 'The resource the command was about' })
  id!: string;

  @ApiProperty({ minimum: 0, description: 'Revision of its stream after the command (also the ETag)' })
  revision!: number;
}

const ETAG = {
  description: 'The resource revision, e.g. "3" (send it back in If-Match to make a mutation conditional)',
  schema: { type: 'string' },
};

/**
 * OpenAPI of a mutation: the Idempotency-Key and If-Match headers, and its success answer (`{id,
 * revision}` or `type`) with ETag and Idempotent-Replayed. Error answers are added for every route by the
 * document builder (operations/openapi.ts).
 */
export function ApiMutation(
  options: { status?: 200 | 201; type?: Type<unknown>; description?: string } = {},
): MethodDecorator {
  const status = options.status ?? 200;
  return applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
      example: '7d1c2a4e-8f0b-4c7e-9a51-2f8e6b3d9c10',
      description:
        'Retry-safe key (1–255 visible ASCII characters, no space, e.g. a UUID): a retry with the same key and ' +
        'body appends nothing and answers the original result; anything else is 400 INVALID_IDEMPOTENCY_KEY',
    }),
    ApiHeader({
      name: 'If-Match',
      required: false,
      schema: { type: 'string', pattern: IF_MATCH_PATTERN },
      example: '*',
      description:
        'Strong ETag of the revision the client decided on, e.g. "3" (412 if it is no longer current), or `*` ' +
        '(no check); anything else is 400 INVALID_IF_MATCH',
    }),
    ApiResponse({
      status,
      type: options.type ?? MutationResultDto,
      description: options.description ?? (status === 201 ? 'Created' : 'Done'),
      headers: {
        ETag: ETAG,
        'Idempotent-Replayed': {
          description: '`true` when the answer is the replay of an earlier request with the same key',
          schema: { type: 'string', enum: ['true'] },
        },
        ...(status === 201 && {
          Location: { description: 'URL of the new resource', schema: { type: 'string' } },
        }),
      },
    }),
  );
}

/** HTTP's `Age`: whole seconds the answer's data trails the event store. */
export const AGE_HEADER = {
  Age: {
    description:
      'Whole seconds the data trails the event store (`meta.staleness` rounded down); 0 when current',
    schema: { type: 'integer', minimum: 0 },
  },
} as const;

/** OpenAPI of a single-resource read answered with an ETag and an Age. */
export function ApiRead(type: Type<unknown>, description = 'The resource'): MethodDecorator {
  return applyDecorators(
    ApiResponse({ status: 200, type, description, headers: { ETag: ETAG, ...AGE_HEADER } }),
  );
}

/**
 * The largest revision or position a query parameter takes (15 digits: far beyond any stream, and exact as a
 * JavaScript number).
 */
export const MAX_QUERY_REVISION = 999_999_999_999_999;

/** OpenAPI of a revision (or position) query parameter: what `^\d{1,15}$` accepts. */
export function revisionDoc(description: string) {
  return { type: 'integer', minimum: 0, maximum: MAX_QUERY_REVISION, description } as const;
}
