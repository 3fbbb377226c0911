import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class PayOrderCommand extends Command<MutationResult> {
  constructor(
    readonly orderId: string,
    readonly paymentId: string,
    readonly amount: number,
    readonly context: CommandContext,
  ) {
    super();
  }
}
