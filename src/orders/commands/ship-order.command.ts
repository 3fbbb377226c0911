import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class ShipOrderCommand extends Command<MutationResult> {
  constructor(
    readonly orderId: string,
    readonly carrier: string,
    readonly trackingNumber: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
