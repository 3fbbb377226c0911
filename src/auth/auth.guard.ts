import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { ROLES, type Actor, type Role } from '../shared/application/command-context.js';
import { HttpProblem } from '../shared/http/http-errors.js';
import { PUBLIC_KEY, REFUSAL_KEY, ROLES_KEY, type RoleRefusal } from './roles.decorator.js';
import { problem } from '../shared/http/problem.js';

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * Every route needs `Authorization: Bearer <HS256 JWT>` with `sub` and `roles`, unless marked @Public.
 * 401 for a missing or bad token, 403 for a valid token without a role the route accepts.
 */
@Injectable()
export class AuthGuard implements CanActivate {
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
    if (!header) throw HttpProblem.unauthorized('Missing Authorization: Bearer <token>');
    const match = BEARER.exec(header);
    if (!match) throw HttpProblem.unauthorized('Authorization must be "Bearer <JWT>"');
    let claims: Record<string, unknown>;
    try {
      claims = this.jwt.verify<Record<string, unknown>>(match[1]!, { algorithms: ['HS256'] });
    } catch {
      throw HttpProblem.unauthorized('The token is invalid or expired');
    }
    const { sub, roles } = claims;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) {
      throw HttpProblem.unauthorized('The token has no valid "sub" claim');
    }
    if (!Array.isArray(roles) || !roles.every(isRole)) {
      throw HttpProblem.unauthorized(`The token's "roles" claim must be a list of: ${ROLES.join(', ')}`);
    }
    return { id: sub, roles };
  }
}
