/** The roles a token may carry. */
export const ROLES = ['shopper', 'operator', 'auditor'] as const;
/**
 * `system`: the service's own processes and the payment provider's signed webhook act under it. No token can
 * claim it (the auth guard accepts only ROLES).
 */
export type Role = (typeof ROLES)[number] | 'system';

/** Who is asking: the JWT's `sub` and roles. */
export interface Actor {
  readonly id: string;
  readonly roles: readonly Role[];
}

export function hasRole(actor: Actor, ...roles: Role[]): boolean {
  return roles.some((role) => actor.roles.includes(role));
}

/** Everything about the request that must end up in event metadata or steer concurrency/idempotency. */
export interface CommandContext {
  readonly actor: Actor;
  readonly correlationId: string;
  /** Id of the request (or event) that caused this command. */
  readonly causationId: string;
  readonly idempotencyKey: string | null;
  /**
   * sha-256 of method + route + parameters + canonical body: the same key with another hash is refused. Empty
   * when there is no idempotency key (nothing compares it then).
   */
  readonly requestHash: string;
  /** From If-Match: the revision the client believes is current (null: none given). */
  readonly expectedRevision: bigint | null;
}
