import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/roles.decorator.js';
import { AGE_HEADER } from '../../shared/http/openapi.js';
import type { Actor } from '../../shared/application/command-context.js';
import { CurrentActor } from '../../shared/http/command-context.decorator.js';
import type { FastifyReply } from 'fastify';
import { maxStaleMs } from '../../shared/http/max-stale.js';
import { CachedPageQueryDto, listResponse, page } from '../../shared/http/read-response.js';
import { GetCustomerTimelineQuery } from '../read-model/get-customer-timeline.query.js';
import { TimelinePageDto } from './order.dto.js';

@ApiTags('orders')
@Controller('customers')
export class CustomersController {
  constructor(private readonly queries: QueryBus) {}

  /** Every order event of a customer, oldest first (a shopper: only their own). */
  @Get(':id/timeline')
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({ summary: 'Every order event of a customer, oldest first (a shopper: only their own)' })
  @ApiOkResponse({
    type: TimelinePageDto,
    description: "A page of the customer's timeline",
    headers: AGE_HEADER,
  })
  async timeline(
    @Param('id') id: string,
    @Query() query: CachedPageQueryDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { limit, cursor } = page(query);
    const maxStale = maxStaleMs(cacheControl, query.maxStaleMs);
    return listResponse(
      reply,
      await this.queries.execute(new GetCustomerTimelineQuery(id, actor, limit, cursor, maxStale)),
    );
  }
}
