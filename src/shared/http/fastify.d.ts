import type { Actor } from '../application/command-context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** From X-Correlation-Id (validated) or freshly generated; echoed on every response. */
    correlationId: string;
    /** Set by the auth guard from the bearer token. */
    actor?: Actor;
  }
}
