/** Rebuild and verify apply to projections; a process manager has no read model to rebuild. */
export class NotAProjectionError extends Error {
  constructor(readonly consumer: string) {
    super(`${consumer} is a process manager, not a projection: it has no read model to rebuild or verify`);
    this.name = 'NotAProjectionError';
  }
}
