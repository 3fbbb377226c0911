import { Readable } from 'node:stream';
import { Controller, Get, Logger, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/roles.decorator.js';
import { instant } from '../../shared/http/read-response.js';
import { isAuditedKind } from '../application/audited-aggregates.js';
import { ReadStreamEventsQuery } from '../application/queries/read-stream-events/read-stream-events.query.js';
import { ReplayEventsQuery } from '../application/queries/replay-events/replay-events.query.js';
import { ReplayQueryDto, STREAM_PAGE_DEFAULT, StreamEventsQueryDto } from './audit.dto.js';
import { AuditEventDto, StreamEventsPageDto } from './audit.openapi.js';
import { NDJSON, ndjson, REPLAY_BUFFER_BYTES } from './ndjson.js';

/** Raw history for auditors and operators: one stream's events, and the global replay. */
@ApiTags('audit')
@ApiExtraModels(AuditEventDto)
@Controller('audit')
@Roles('auditor', 'operator')
export class AuditController {
  private readonly logger = new Logger('Audit');

  constructor(private readonly queries: QueryBus) {}

  @Get('streams/:stream/events')
  @ApiOperation({ summary: "A cart's, order's or product's raw events with their metadata, paged both ways" })
  @ApiOkResponse({ type: StreamEventsPageDto, description: 'A page of events and the link to the next one' })
  async streamEvents(
    @Param('stream') stream: string,
    @Query() query: StreamEventsQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const direction = query.direction ?? 'forwards';
    const limit = query.limit === undefined ? STREAM_PAGE_DEFAULT : Number(query.limit);
    const page = await this.queries.execute(
      new ReadStreamEventsQuery(
        stream,
        query.from === undefined ? null : BigInt(query.from),
        limit,
        direction,
      ),
    );
    const next =
      page.nextFrom === null
        ? null
        : `/audit/streams/${encodeURIComponent(stream)}/events?from=${page.nextFrom}&limit=${limit}&direction=${direction}`;
    if (next !== null) void reply.header('link', `<${next}>; rel="next"`);
    return { stream: page.stream, lastRevision: Number(page.lastRevision), items: page.items, next };
  }

  /**
   * `application/x-ndjson`, one event per line in position order. Pages are pulled from the store only as
   * fast as the client reads (the Readable stops pulling while its buffer is full), so memory stays flat
   * however long the replay; a client that goes away ends it. Bad input, and a store failing before the
   * first page, are ordinary problem responses.
   */
  @Get('events')
  @ApiOperation({ summary: 'Replay of every cart, order and product event in position order, as NDJSON' })
  @ApiProduces(NDJSON)
  @ApiOkResponse({
    description:
      'One event per line (each with its position); a failure after the first line ends the body with one `{"error": problem}` line',
    content: { [NDJSON]: { schema: { $ref: getSchemaPath(AuditEventDto) } } },
  })
  async replay(@Query() query: ReplayQueryDto, @Res() reply: FastifyReply): Promise<void> {
    const prefix = query.streamPrefix ?? null;
    const pages = await this.queries.execute(
      new ReplayEventsQuery({
        types: query.types === undefined ? null : query.types.split(','),
        category: prefix !== null && isAuditedKind(prefix) ? prefix : null,
        streamId: prefix !== null && prefix.includes('-') ? prefix : null,
        from: query.from === undefined ? null : new Date(instant(query.from)),
        to: query.to === undefined ? null : new Date(instant(query.to)),
        afterPosition: query.afterPosition === undefined ? null : BigInt(query.afterPosition),
        limit: query.limit === undefined ? null : Number(query.limit),
      }),
    );
    if (reply.request.method === 'HEAD') {
      // Fastify would drain a streamed body for a HEAD: that would read the whole store for nothing.
      await pages.return();
      void reply.header('cache-control', 'no-store').type(NDJSON).send();
      return;
    }
    const first = await pages.next();
    const body = Readable.from(
      ndjson(first, pages, (error) => this.logger.error(`replay failed: ${String(error)}`)),
      { objectMode: false, highWaterMark: REPLAY_BUFFER_BYTES },
    );
    void reply.header('cache-control', 'no-store').type(NDJSON).send(body);
  }
}
