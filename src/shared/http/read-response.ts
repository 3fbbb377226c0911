import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { ageSeconds, type FreshnessRead, type ReadOptions } from '../application/freshness-read.js';
import { maxStaleMs, MAX_STALE_MS_PATTERN } from './max-stale.js';
import { etag, revisionJson } from './mutation-response.js';

const MAX_STALE_DOC = {
  pattern: MAX_STALE_MS_PATTERN.source,
  description:
    'The most stale the answer may be, in milliseconds (for clients that cannot send `Cache-Control: ' +
    'max-stale=<seconds>`; with both, the stricter holds). See the operation’s read contract.',
} as const;

/** `?consistency=strong|cached&minRevision=N` of a single-resource read. */
export class ReadQueryDto {
  @ApiPropertyOptional({
    enum: ['strong', 'cached'],
    description: 'strong: folded from the event stream (read-your-writes); cached (default): the read model',
  })
  @IsOptional()
  @IsIn(['strong', 'cached'], { message: 'consistency must be strong or cached' })
  consistency?: 'strong' | 'cached';

  @ApiPropertyOptional({
    pattern: '^\\d{1,15}$',
    description: `Wait up to READ_WAIT_MS for the read model to reach this revision (else: stale: true)`,
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,15}$/, { message: 'minRevision must be a revision: a whole number from 0' })
  minRevision?: string;

  @ApiPropertyOptional(MAX_STALE_DOC)
  @IsOptional()
  @IsString()
  @Matches(MAX_STALE_MS_PATTERN, { message: 'maxStaleMs must be milliseconds: a whole number from 0' })
  maxStaleMs?: string;
}

/**
 * The options of a single-resource read: `?consistency`, `?minRevision`, and the staleness bound of
 * `Cache-Control: max-stale` and `?maxStaleMs` (a malformed max-stale is a 400).
 */
export function readOptions(query: ReadQueryDto, cacheControl?: string | string[]): ReadOptions {
  return {
    consistency: query.consistency ?? 'cached',
    minRevision: query.minRevision === undefined ? null : BigInt(query.minRevision),
    maxStaleMs: maxStaleMs(cacheControl, query.maxStaleMs),
  };
}

const STALENESS_DOC =
  'Milliseconds the data trails the event store: since the append of the first event of its stream it does ' +
  'not reflect; 0 when it reflects them all (always 0 from the event store). `Age` says the same in whole ' +
  'seconds.';

/** What a single-resource read says about its freshness. */
export class ReadMetaDto {
  @ApiProperty({ minimum: 0, description: 'Stream revision the data reflects (also the ETag)' })
  revision!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Global position of that event' })
  position!: number | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When the read model wrote it',
  })
  projectedAt!: string | null;
  @ApiProperty({ enum: ['read-store', 'event-store'] })
  source!: string;
  @ApiProperty({ description: 'True when ?minRevision was not reached within READ_WAIT_MS' })
  stale!: boolean;
  @ApiProperty({ minimum: 0, description: STALENESS_DOC })
  staleness!: number;
}

/** What a list says about its freshness. */
export class ListMetaDto {
  @ApiProperty({
    minimum: 0,
    description:
      'Milliseconds the read model trails the event store (its lag in time: since the append of the oldest ' +
      'event it has not applied; 0 when none), measured when the list was read. `Age` says the same in ' +
      'whole seconds.',
  })
  staleness!: number;
}

/**
 * `{data, meta: {revision, position, projectedAt, source, stale, staleness}}` with `ETag: "<revision>"` and
 * `Age`.
 */
export function freshnessResponse<View>(reply: FastifyReply, read: FreshnessRead<View>) {
  void reply.header('etag', etag(read.revision));
  void reply.header('age', String(ageSeconds(read.staleness)));
  return {
    data: read.data,
    meta: {
      revision: revisionJson(read.revision),
      position: read.position === null ? null : Number(read.position),
      projectedAt: read.projectedAt?.toISOString() ?? null,
      source: read.source,
      stale: read.stale,
      staleness: read.staleness,
    },
  };
}

/** A page of a list as the API answers it: `{items, nextCursor, meta: {staleness}}`, with `Age`. */
export function listResponse<Item>(
  reply: FastifyReply,
  page: { readonly items: readonly Item[]; readonly nextCursor: string | null; readonly staleness: number },
) {
  void reply.header('age', String(ageSeconds(page.staleness)));
  return { items: page.items, nextCursor: page.nextCursor, meta: { staleness: page.staleness } };
}

/** Days of the calendar, leap days included: written out so that the pattern alone is the whole rule. */
const MONTH_DAY =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))';
const LEAP_DAY = '(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29';
const TIME =
  'T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,3})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])';

/**
 * An instant with an explicit zone (or a date, meaning 00:00 UTC): never read in the server's local time. The
 * pattern checks the calendar too (2026-02-30 and 2026-02-29 are refused, 2028-02-29 taken), so the OpenAPI
 * document states exactly the rule the server applies; plain character classes only, for any regex dialect.
 */
export const INSTANT_PATTERN = new RegExp(`^(?:[0-9]{4}-${MONTH_DAY}|${LEAP_DAY})(?:${TIME})?$`);

/** OpenAPI of an instant parameter. */
export function instantDoc(description: string) {
  return {
    type: 'string',
    pattern: INSTANT_PATTERN.source,
    example: '2026-05-02T14:03:00Z',
    description: `${description}: an ISO-8601 instant with a zone (2026-05-02T14:03:00Z, 2026-05-02T16:03+02:00; at most milliseconds) or a date (00:00 UTC)`,
  } as const;
}

/** `?limit&cursor` of a paged list. */
export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @IsString()
  @Matches(/^(?:[1-9]|[1-9]\d|100)$/, { message: 'limit must be a whole number from 1 to 100' })
  limit?: string;

  @ApiPropertyOptional({
    pattern: '^[A-Za-z0-9_-]{1,512}$',
    description: 'The nextCursor of the previous page (only for the same query; never empty)',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,512}$/, { message: 'cursor must be a nextCursor this service returned' })
  cursor?: string;
}

/** `?limit&cursor&maxStaleMs` of a paged list of a read model (QP-3). */
export class CachedPageQueryDto extends PageQueryDto {
  @ApiPropertyOptional(MAX_STALE_DOC)
  @IsOptional()
  @IsString()
  @Matches(MAX_STALE_MS_PATTERN, { message: 'maxStaleMs must be milliseconds: a whole number from 0' })
  maxStaleMs?: string;
}

export const DEFAULT_PAGE_SIZE = 20;

export function page(query: PageQueryDto): { limit: number; cursor: string | null } {
  return {
    limit: query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit),
    cursor: query.cursor ?? null,
  };
}

/** Parses a validated instant to UTC ISO-8601 with milliseconds (the form read models store). */
export function instant(value: string): string {
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  return date.toISOString();
}

function isInstant(value: unknown): boolean {
  if (typeof value !== 'string' || !INSTANT_PATTERN.test(value)) return false;
  return !Number.isNaN(new Date(value.length === 10 ? `${value}T00:00:00Z` : value).getTime());
}

/** A UTC ISO-8601 instant with an explicit zone, or a date (00:00 UTC). */
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInstant',
      validator: {
        validate: isInstant,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an ISO-8601 instant with a zone (e.g. 2026-05-02T14:03:00Z) or a date (2026-05-02)`,
      },
    },
    options,
  );
}
