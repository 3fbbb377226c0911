import { createHmac } from 'node:crypto';
import { ROLES, type Role } from '../../shared/application/command-context.js';

export { ROLES, type Role };

/**
 * The public development secret: what the service uses when NODE_ENV=development and AUTH_JWT_SECRET is not
 * set (config/app-config.ts's DEV_JWT_SECRET, repeated here so that the CLI loads none of the service; a
 * unit test keeps the two equal).
 */
export const DEV_JWT_SECRET = 'ordertrail-dev-secret-change-me';
/** The same for PAYMENT_WEBHOOK_SECRET (config/app-config.ts's DEV_PAYMENT_WEBHOOK_SECRET). */
export const DEV_PAYMENT_WEBHOOK_SECRET = 'ordertrail-dev-payment-webhook-secret-change-me';

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** An HS256 bearer token with `sub`, `roles`, `iat` and `exp` — the same as scripts/token.mjs signs. */
export function signDevToken(
  claims: { sub: string; roles: readonly Role[]; ttlSeconds: number },
  secret: string,
  now: number = Date.now(),
): string {
  const iat = Math.floor(now / 1000);
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({
    sub: claims.sub,
    roles: claims.roles,
    iat,
    exp: iat + claims.ttlSeconds,
  })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
