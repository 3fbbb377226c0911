import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiProperty, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../../auth/roles.decorator.js';
import type { CommandContext } from '../../shared/application/command-context.js';
import { CommandCtx } from '../../shared/http/command-context.decorator.js';
import { mutationResponse } from '../../shared/http/mutation-response.js';
import { ApiMutation, MutationResultDto } from '../../shared/http/openapi.js';
import { EmptyBodyPipe, UuidPathPipe } from '../../shared/http/validation.js';
import { CheckOutCartCommand } from '../check-out-cart.js';

export class CheckoutResultDto extends MutationResultDto {
  @ApiProperty({ format: 'uuid', description: 'The order this checkout places' })
  orderId!: string;
  @ApiProperty({ description: 'Whether the order was placed within READ_WAIT_MS (it will be, regardless)' })
  orderPlaced!: boolean;
}

/** `POST /carts/:id/checkout`: the one route where a cart becomes an order. */
@ApiTags('carts')
@Controller('carts')
export class CheckoutController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':id/checkout')
  @Roles('shopper')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check out: closes the cart and places its order (waits up to READ_WAIT_MS)' })
  @ApiMutation({ type: CheckoutResultDto })
  async checkout(
    @Param('id', new UuidPathPipe('cart')) id: string,
    @Body(EmptyBodyPipe) _body: unknown,
    @CommandCtx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const result = await this.commands.execute(new CheckOutCartCommand(id, ctx));
    return mutationResponse(reply, result, { orderId: result.orderId, orderPlaced: result.orderPlaced });
  }
}
