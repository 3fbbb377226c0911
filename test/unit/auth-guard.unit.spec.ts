import { createHmac } from 'node:crypto';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { AuthGuard } from '../../src/auth/auth.guard.js';
import { HttpProblem } from '../../src/shared/http/http-errors.js';

const SECRET = 'a-unit-test-secret-of-at-least-32-characters';

function sign(claims: Record<string, unknown>, secret = SECRET): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function request(token: string): FastifyRequest {
  return { headers: { authorization: `Bearer ${token}` } } as unknown as FastifyRequest;
}

function refusal(run: () => void): { status: number; check?: unknown } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof HttpProblem)) throw error;
    return { status: error.body.status, check: (error.body as { check?: unknown }).check };
  }
  throw new Error('expected a refusal');
}

/** Counts the verifications that reach jsonwebtoken. */
class CountingJwtService extends JwtService {
  verifications = 0;
  override verify<T extends object>(...args: Parameters<JwtService['verify']>): T {
    this.verifications++;
    return super.verify<T>(...args);
  }
}

describe('AuthGuard: verified tokens are kept', () => {
  const jwt = new CountingJwtService({ secret: SECRET, verifyOptions: { algorithms: ['HS256'] } });
  const realNow = Date.now;
  let now = 0;
  beforeEach(() => {
    now = Date.UTC(2026, 11, 7, 12, 0, 0);
    // jsonwebtoken reads the clock through Date.now too, so both sides see the same instant.
    Date.now = () => now;
    jwt.verifications = 0;
  });
  afterEach(() => {
    Date.now = realNow;
  });

  it('checks a token once, then answers from what it kept, with the same actor', () => {
    const guard = new AuthGuard(new Reflector(), jwt);
    const token = sign({ sub: 'shopper-1', roles: ['shopper'], exp: now / 1000 + 60 });
    const first = request(token);
    const second = request(token);
    guard.authorize(first, ['shopper']);
    guard.authorize(second, ['shopper']);
    expect(jwt.verifications).toBe(1);
    expect(second.actor).toEqual({ id: 'shopper-1', roles: ['shopper'] });
    expect(first.actor).toEqual(second.actor);
  });

  it('still refuses a kept token a role it lacks', () => {
    const guard = new AuthGuard(new Reflector(), jwt);
    const token = sign({ sub: 'shopper-1', roles: ['shopper'], exp: now / 1000 + 60 });
    guard.authorize(request(token), ['shopper']);
    expect(refusal(() => guard.authorize(request(token), ['operator'])).status).toBe(403);
  });

  it('refuses a kept token once it has expired, saying so', () => {
    const guard = new AuthGuard(new Reflector(), jwt);
    const token = sign({ sub: 'shopper-1', roles: ['shopper'], exp: now / 1000 + 60 });
    guard.authorize(request(token), ['shopper']);
    now += 60_000; // the second "exp" names: expired, as jsonwebtoken reads it
    expect(refusal(() => guard.authorize(request(token), ['shopper']))).toEqual({
      status: 401,
      check: 'expired',
    });
  });

  it('keeps nothing of a token that failed a check', () => {
    const guard = new AuthGuard(new Reflector(), jwt);
    const forged = sign({ sub: 'shopper-1', roles: ['shopper'], exp: now / 1000 + 60 }, `${SECRET}-other`);
    for (let i = 0; i < 2; i++)
      expect(refusal(() => guard.authorize(request(forged), ['shopper']))).toEqual({
        status: 401,
        check: 'signature',
      });
  });
});
