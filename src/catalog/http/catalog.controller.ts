import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/roles.decorator.js';
import type { Actor, CommandContext } from '../../shared/application/command-context.js';
import { CommandCtx, CurrentActor } from '../../shared/http/command-context.decorator.js';
import { mutationResponse } from '../../shared/http/mutation-response.js';
import { AGE_HEADER, ApiMutation, ApiRead } from '../../shared/http/openapi.js';
import {
  freshnessResponse,
  listResponse,
  page,
  ReadQueryDto,
  readOptions,
} from '../../shared/http/read-response.js';
import { maxStaleMs } from '../../shared/http/max-stale.js';
import { SkuPathPipe } from '../../shared/http/validation.js';
import { RunProductCommand } from '../commands/product-command.js';
import type { ProductCommand } from '../domain/product.commands.js';
import { GetProductQuery } from '../read-model/get-product.query.js';
import { ListProductsQuery, type ProductFilters } from '../read-model/list-products.query.js';
import {
  ChangeProductPricesDto,
  ListProductDto,
  ListProductsDto,
  ProductMutationResultDto,
  ProductPageDto,
  ProductReadDto,
  WithdrawProductDto,
} from './product.dto.js';

const sku = new SkuPathPipe('product');

/** The catalog: operators list, price and withdraw products; every authenticated role reads it. */
@ApiTags('catalog')
@Controller('catalog/products')
export class CatalogController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('operator')
  @HttpCode(201)
  @ApiOperation({ summary: 'List a product (a new sku, or one withdrawn earlier) under a name at prices' })
  @ApiMutation({ status: 201, type: ProductMutationResultDto })
  async list(
    @Body() body: ListProductDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const listed = { sku: body.sku, name: body.name.trim(), prices: body.prices };
    const result = await this.run(body.sku, { type: 'ListProduct', data: listed }, ctx);
    void reply.header('location', `/catalog/products/${result.id}`);
    return mutationResponse(reply, result);
  }

  @Get()
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({
    summary: 'Products by sku, filtered by status, sku prefix or name prefix, keyset-paginated',
  })
  @ApiOkResponse({
    type: ProductPageDto,
    description: 'A page of products, by sku ascending',
    headers: AGE_HEADER,
  })
  async search(
    @Query() query: ListProductsDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { limit, cursor } = page(query);
    const filters: ProductFilters = {
      status: query.status ?? 'listed',
      ...(query.sku !== undefined && { skuPrefix: query.sku }),
      ...(query.name !== undefined && { namePrefix: query.name }),
    };
    const maxStale = maxStaleMs(cacheControl, query.maxStaleMs);
    return listResponse(
      reply,
      await this.queries.execute(new ListProductsQuery(filters, limit, cursor, maxStale)),
    );
  }

  @Get(':sku')
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({ summary: 'A product, listed or withdrawn' })
  @ApiRead(ProductReadDto)
  async get(
    @Param('sku', sku) id: string,
    @Query() query: ReadQueryDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return freshnessResponse(
      reply,
      await this.queries.execute(new GetProductQuery(id, actor, readOptions(query, cacheControl))),
    );
  }

  @Patch(':sku/price')
  @Roles('operator')
  @ApiOperation({ summary: "Set (or, with null, remove) a listed product's price in the currencies given" })
  @ApiMutation({ type: ProductMutationResultDto })
  async changePrices(
    @Param('sku', sku) id: string,
    @Body() body: ChangeProductPricesDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(
      reply,
      await this.run(id, { type: 'ChangeProductPrices', data: { prices: body.prices } }, ctx),
    );
  }

  @Delete(':sku')
  @Roles('operator')
  @ApiOperation({ summary: 'Withdraw a listed product (it can be listed again)' })
  @ApiMutation({ type: ProductMutationResultDto })
  async withdraw(
    @Param('sku', sku) id: string,
    @Body() body: WithdrawProductDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const reason = body.reason?.trim() ?? null;
    return mutationResponse(reply, await this.run(id, { type: 'WithdrawProduct', data: { reason } }, ctx));
  }

  private run(id: string, command: ProductCommand, ctx: CommandContext) {
    return this.commands.execute(new RunProductCommand(id, command, ctx));
  }
}
