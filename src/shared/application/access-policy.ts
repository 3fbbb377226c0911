import { hasRole, type Actor, type Role } from './command-context.js';

/**
 * Who may see and who may change one kind of thing that belongs to a customer (a cart, an order, a
 * customer's history). The owner always may; besides the owner, only the roles named here. Everybody else
 * is told the thing does not exist (404, never 403), so that nothing leaks about other customers.
 */
export interface AccessPolicy {
  readonly seenBy: readonly Role[];
  readonly changedBy: readonly Role[];
}

/** A customer's own data: operators and auditors read everyone's, nobody changes anyone else's. */
export const CUSTOMER_DATA: AccessPolicy = { seenBy: ['operator', 'auditor'], changedBy: [] };

/** The actor's role sees every customer's (not only their own). */
export function seesEveryone(policy: AccessPolicy, actor: Actor): boolean {
  return hasRole(actor, ...policy.seenBy);
}

export function maySee(policy: AccessPolicy, actor: Actor, ownerId: string | null): boolean {
  return (ownerId !== null && ownerId === actor.id) || hasRole(actor, ...policy.seenBy);
}

export function mayChange(policy: AccessPolicy, actor: Actor, ownerId: string | null): boolean {
  return (ownerId !== null && ownerId === actor.id) || hasRole(actor, ...policy.changedBy);
}
