import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/roles.decorator.js';
import { ResourceNotFoundError } from '../../shared/application/errors.js';
import { page, PageQueryDto } from '../../shared/http/read-response.js';
import { GetCorrelationQuery } from '../application/queries/get-correlation/get-correlation.query.js';
import { CorrelationPageDto } from './audit.openapi.js';

/** The correlation ids the service accepts in X-Correlation-Id: anything else names nothing. */
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

@ApiTags('audit')
@Controller('correlations')
@Roles('auditor', 'operator')
export class CorrelationsController {
  constructor(private readonly queries: QueryBus) {}

  /** `{correlationId, items, nextCursor}`: every event of one request or process, in position order. */
  @Get(':correlationId')
  @ApiOperation({ summary: 'Every event one request (or the process it started) caused, across streams' })
  @ApiOkResponse({ type: CorrelationPageDto, description: 'A page of events in position order' })
  async get(@Param('correlationId') correlationId: string, @Query() query: PageQueryDto) {
    if (!CORRELATION_ID.test(correlationId)) throw new ResourceNotFoundError('correlation', correlationId);
    const { limit, cursor } = page(query);
    return this.queries.execute(new GetCorrelationQuery(correlationId, limit, cursor));
  }
}
