import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class AbandonCartCommand extends Command<MutationResult> {
  constructor(
    readonly cartId: string,
    readonly reason: string | null,
    readonly context: CommandContext,
  ) {
    super();
  }
}
