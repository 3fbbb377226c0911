import {
  Body,
  Controller,
  Query,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Res,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/roles.decorator.js';
import type { Actor, CommandContext } from '../../shared/application/command-context.js';
import { CommandCtx, CurrentActor } from '../../shared/http/command-context.decorator.js';
import { mutationResponse } from '../../shared/http/mutation-response.js';
import { ApiMutation, ApiRead } from '../../shared/http/openapi.js';
import { freshnessResponse, ReadQueryDto, readOptions } from '../../shared/http/read-response.js';
import { EmptyBodyPipe, UuidPathPipe } from '../../shared/http/validation.js';
import {
  AddCatalogItem,
  newCartId,
  RepriceCartFromCatalog,
  RunCartCommand,
} from '../commands/cart-command.js';
import type { CartCommand } from '../domain/cart.commands.js';
import { GetCartQuery } from '../read-model/get-cart.query.js';
import { AbandonCartDto, AddItemDto, CartReadDto, ChangeItemQuantityDto, OpenCartDto } from './cart.dto.js';

const cartId = new UuidPathPipe('cart');

@ApiTags('carts')
@Controller('carts')
export class CartsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Roles('shopper')
  @HttpCode(201)
  @ApiOperation({ summary: 'Open a cart (its id derives from the Idempotency-Key when one is sent)' })
  @ApiMutation({ status: 201 })
  async open(
    @Body() body: OpenCartDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const cartId = newCartId(ctx);
    const opened = { cartId, customerId: ctx.actor.id, currency: body.currency };
    const result = await this.run(cartId, { type: 'OpenCart', data: opened }, ctx);
    void reply.header('location', `/carts/${result.id}`);
    return mutationResponse(reply, result);
  }

  @Get(':id')
  @Roles('shopper', 'operator', 'auditor')
  @ApiOperation({ summary: 'A cart (its owner, operators, auditors)' })
  @ApiRead(CartReadDto)
  async get(
    @Param('id', cartId) id: string,
    @Query() query: ReadQueryDto,
    @Headers('cache-control') cacheControl: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return freshnessResponse(
      reply,
      await this.queries.execute(new GetCartQuery(id, actor, readOptions(query, cacheControl))),
    );
  }

  @Post(':id/items')
  @Roles('shopper')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Add a catalog product (a sku already in the cart grows its line); its name and unit price are the catalog’s',
  })
  @ApiMutation()
  async addItem(
    @Param('id', cartId) id: string,
    @Body() body: AddItemDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(
      reply,
      await this.commands.execute(new AddCatalogItem(id, body.sku, body.quantity, ctx)),
    );
  }

  @Post(':id/reprice')
  @Roles('shopper')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Take the catalog’s current prices for the lines whose price changed since they were added',
  })
  @ApiMutation()
  async reprice(
    @Param('id', cartId) id: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(reply, await this.commands.execute(new RepriceCartFromCatalog(id, ctx)));
  }

  @Patch(':id/items/:sku')
  @Roles('shopper')
  @ApiOperation({ summary: "Change a line's quantity" })
  @ApiMutation()
  async changeQuantity(
    @Param('id', cartId) id: string,
    @Param('sku') sku: string,
    @Body() body: ChangeItemQuantityDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(
      reply,
      await this.run(id, { type: 'ChangeItemQuantity', data: { sku, quantity: body.quantity } }, ctx),
    );
  }

  @Delete(':id/items/:sku')
  @Roles('shopper')
  @ApiOperation({ summary: 'Remove a line' })
  @ApiMutation()
  async removeItem(
    @Param('id', cartId) id: string,
    @Param('sku') sku: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(reply, await this.run(id, { type: 'RemoveItem', data: { sku } }, ctx));
  }

  @Post(':id/abandon')
  @Roles('shopper')
  @HttpCode(200)
  @ApiOperation({ summary: 'Abandon the cart' })
  @ApiMutation()
  async abandon(
    @Param('id', cartId) id: string,
    @Body() body: AbandonCartDto,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return mutationResponse(
      reply,
      await this.run(id, { type: 'AbandonCart', data: { reason: body.reason ?? null } }, ctx),
    );
  }

  private run(id: string, command: CartCommand, ctx: CommandContext) {
    return this.commands.execute(new RunCartCommand(id, command, ctx));
  }
}
