import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class PlaceOrderCommand extends Command<MutationResult> {
  constructor(
    readonly orderId: string,
    readonly order: {
      cartId: string;
      customerId: string;
      currency: string;
      lines: { sku: string; name: string; quantity: number; unitPrice: number }[];
    },
    readonly context: CommandContext,
  ) {
    super();
  }
}
