import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class AddItemCommand extends Command<MutationResult> {
  constructor(
    readonly cartId: string,
    readonly item: { sku: string; name: string; quantity: number; unitPrice: number },
    readonly context: CommandContext,
  ) {
    super();
  }
}
