import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../shared/application/command-context.js';
import type { MutationResult } from '../../shared/application/mutation-result.js';

export class OpenCartCommand extends Command<MutationResult> {
  constructor(
    readonly currency: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
