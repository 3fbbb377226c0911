import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { ROLES, type Actor, type Role } from '../shared/application/command-context.js';
import { HttpProblem } from '../shared/http/http-errors.js';
import { PUBLIC_KEY, REFUSAL_KEY, ROLES_KEY, type RoleRefusal } from './roles.decorator.js';
import { problem } from '../shared/http/problem.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/**
 * Tokens kept once verified. A client sends the same token with every request until it expires, and checking
 * it again (two base64url decodes, two JSON parses, an HMAC) was about 6 % of the main thread under add-item load
 * (docs/benchmarks.md, issue 14). Bounded, oldest first out: enough for every shopper of a busy instance.
 */
const VERIFIED_TOKENS = 10_000;

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Which check a token failed, as a 401 says it (`check`): enough for its holder to fix it, nothing about the
 * secret. The signature is checked before the times, so a forged token learns nothing about its expiry.
 */
export type TokenCheck =
  | 'missing'
  | 'scheme'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not-yet-valid'
  | 'exp'
  | 'claims';

function unauthorized(check: TokenCheck, detail: string): HttpProblem {
  return new HttpProblem(problem(401, 'UNAUTHORIZED', detail, { check }));
}

/** The check a jsonwebtoken verification error stands for. */
function failedCheck(error: unknown): HttpProblem {
  const { name, message } = error as { name?: unknown; message?: unknown };
  if (name === 'TokenExpiredError') {
    const at = (error as { expiredAt?: unknown }).expiredAt;
    return unauthorized(
      'expired',
      at instanceof Date ? `The token expired at ${at.toISOString()}` : 'The token has expired',
    );
  }
  if (name === 'NotBeforeError') return unauthorized('not-yet-valid', 'The token is not valid yet ("nbf")');
  switch (message) {
    case 'invalid signature':
    case 'jwt signature is required':
      return unauthorized(
        'signature',
        "The token's signature does not match: it was signed with another secret, or changed since",
      );
    case 'invalid algorithm':
      return unauthorized('algorithm', 'The token must be signed with HS256');
    case 'invalid exp value':
    case 'invalid nbf value':
      return unauthorized('claims', 'The token\'s "exp" and "nbf" claims must be numbers of seconds');
    default:
      return unauthorized(
        'malformed',
        'The token is not a JWT (three base64url parts: header, claims, signature)',
      );
  }
}

/**
 * Every route needs `Authorization: Bearer <HS256 JWT>` with `sub`, `roles` and `exp`, unless marked @Public.
 * 401 for a missing or bad token, saying which check failed (`check`, see TokenCheck); 403 for a valid token
 * without a role the route accepts. A token must expire: one without `exp` would be valid until the secret
 * itself is changed, for everyone.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /**
   * By the token's exact text, so a hit is a token whose signature this process has checked with the same
   * secret (it never changes while the process runs); only tokens that passed every check are kept.
   */
  private readonly verified = new Map<string, { actor: Actor; expiresAtMs: number }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    this.authorize(
      request,
      this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets),
      this.reflector.getAllAndOverride<RoleRefusal | undefined>(REFUSAL_KEY, targets),
    );
    return true;
  }

  /** Authenticates the request's bearer token (sets `request.actor`) and checks it has one of `allowed`. */
  authorize(request: FastifyRequest, allowed: readonly Role[] | undefined, refusal?: RoleRefusal): void {
    const actor = this.authenticate(request.headers.authorization);
    request.actor = actor;
    if (allowed && !allowed.some((role) => actor.roles.includes(role))) {
      if (refusal) throw new HttpProblem(problem(403, refusal.code, refusal.detail));
      throw HttpProblem.forbidden(`This route needs one of the roles: ${allowed.join(', ')}`);
    }
  }

  private authenticate(header: string | undefined): Actor {
    if (!header) throw unauthorized('missing', 'Missing Authorization: Bearer <token>');
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('scheme', 'Authorization must be "Bearer <JWT>"');
    const token = match[1]!;
    const known = this.verified.get(token);
    // jsonwebtoken's own test: expired once the current second reaches "exp". An expired token goes through
    // verify again, which answers why.
    if (known && Date.now() < known.expiresAtMs) return known.actor;
    if (known) this.verified.delete(token);
    let claims: Record<string, unknown>;
    try {
      claims = this.jwt.verify<Record<string, unknown>>(token, { algorithms: ['HS256'] });
    } catch (error) {
      throw failedCheck(error);
    }
    const { sub, roles, exp } = claims;
    if (typeof exp !== 'number') {
      throw unauthorized(
        'exp',
        'The token has no "exp" claim: only tokens that expire are accepted (npm run -s token sets one)',
      );
    }
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) {
      throw unauthorized('claims', 'The token has no valid "sub" claim');
    }
    if (!Array.isArray(roles) || !roles.every(isRole)) {
      throw unauthorized('claims', `The token's "roles" claim must be a list of: ${ROLES.join(', ')}`);
    }
    const actor: Actor = { id: sub, roles };
    this.verified.set(token, { actor, expiresAtMs: exp * 1000 });
    if (this.verified.size > VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    return actor;
  }
}
