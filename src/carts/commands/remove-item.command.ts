import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class RemoveItemCommand extends Command<MutationResult> {
  constructor(
    readonly cartId: string,
    readonly sku: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
