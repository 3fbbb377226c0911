import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class ChangeItemQuantityCommand extends Command<MutationResult> {
  constructor(
    readonly cartId: string,
    readonly sku: string,
    readonly quantity: number,
    readonly context: CommandContext,
  ) {
    super();
  }
}
