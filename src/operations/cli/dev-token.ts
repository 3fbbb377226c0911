import { createHmac } from 'node:crypto';
import { sourceOf } from '../../config/env-file.js';
import { ROLES, type Role } from '../../shared/application/command-context.js';

export { ROLES, type Role };

/**
 * The public development secret: what the service uses when NODE_ENV=development and AUTH_JWT_SECRET is not
 * set (config/environment-variables.ts's DEV_JWT_SECRET, repeated here so that the CLI loads none of the service; a
 * unit test keeps the two equal).
 */
export const DEV_JWT_SECRET = 'ordertrail-dev-secret-change-me';
/** The same for PAYMENT_WEBHOOK_SECRET (config/environment-variables.ts's DEV_PAYMENT_WEBHOOK_SECRET). */
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

/** The secret a dev token is signed with, and where it came from (for the note on stderr). */
export interface SigningSecret {
  readonly secret: string;
  /** `AUTH_JWT_SECRET from .env (/path/.env)`, `AUTH_JWT_SECRET from the environment`, or the dev secret. */
  readonly source: string;
  readonly development: boolean;
}

/** AUTH_JWT_SECRET when it is set (in the environment or the .env the npm script read), else the dev one. */
export function signingSecret(
  env: NodeJS.ProcessEnv,
  execArgv: readonly string[] = process.execArgv,
  cwd: string = process.cwd(),
): SigningSecret {
  const source = sourceOf('AUTH_JWT_SECRET', env, execArgv, cwd);
  if (!source) return { secret: DEV_JWT_SECRET, source: 'the public development secret', development: true };
  return {
    secret: env.AUTH_JWT_SECRET!,
    source: `AUTH_JWT_SECRET from ${source.kind === 'file' ? source.file : 'the environment'}`,
    development: false,
  };
}

/**
 * What `token` says on stderr (stdout carries the token alone, for `$(npm run -s token …)`): which secret
 * signed it, when it expires, and which services accept it. Never the secret.
 */
export function tokenNote(signing: SigningSecret, expiresAt: Date): string {
  const expiry = `expires ${expiresAt.toISOString()}`;
  return signing.development
    ? `note: signed with ${signing.source} (AUTH_JWT_SECRET is not set here), ${expiry}: only a service ` +
        'started by npm run start:dev without AUTH_JWT_SECRET accepts it. For a service with a secret of its ' +
        'own, export the same AUTH_JWT_SECRET or put it in .env\n'
    : `note: signed with ${signing.source}, ${expiry}: a service started with the same secret accepts it\n`;
}
