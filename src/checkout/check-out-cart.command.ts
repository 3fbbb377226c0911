import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../shared/application/command-context.js';
import type { MutationResult } from '../shared/application/mutation-result.js';

export type CheckOutResult = MutationResult & {
  readonly orderId: string;
  /** Whether the order existed when the answer was sent (the process manager places it). */
  readonly orderPlaced: boolean;
};

export class CheckOutCartCommand extends Command<CheckOutResult> {
  constructor(
    readonly cartId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
