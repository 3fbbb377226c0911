import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../auth/roles.decorator.js';
import type { Actor } from '../../shared/application/command-context.js';
import { CurrentActor } from '../../shared/http/command-context.decorator.js';
import { page, PageQueryDto } from '../../shared/http/read-response.js';
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
  @ApiOkResponse({ type: TimelinePageDto, description: "A page of the customer's timeline" })
  async timeline(@Param('id') id: string, @Query() query: PageQueryDto, @CurrentActor() actor: Actor) {
    const { limit, cursor } = page(query);
    return this.queries.execute(new GetCustomerTimelineQuery(id, actor, limit, cursor));
  }
}
