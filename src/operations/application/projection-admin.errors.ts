import { ApplicationError } from '../../shared/application/errors.js';

/** Rebuild and verify apply to projections; a process manager has no read model to rebuild. */
export class NotAProjectionError extends ApplicationError {
  constructor(readonly consumer: string) {
    super(
      'conflict',
      'NOT_A_PROJECTION',
      `${consumer} is a process manager, not a projection: it has no read model to rebuild or verify`,
    );
  }
}
