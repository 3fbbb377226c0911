import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { HttpProblem } from '../../shared/http/http-errors.js';
import { problem } from '../../shared/http/problem.js';
import { SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS, verifySignature } from '../webhook-signature.js';

const REFUSALS = {
  missing: `The ${SIGNATURE_HEADER} header is missing`,
  malformed: `The ${SIGNATURE_HEADER} header must be "t=<unix seconds>,v1=<hex HMAC-SHA256>"`,
  stale: `The signature's timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} s away from the server's clock`,
  mismatch: 'The signature does not match the body (wrong secret, or the body was altered)',
} as const;

/**
 * Lets a webhook through only when the payment provider signed it: HMAC-SHA256 with PAYMENT_WEBHOOK_SECRET
 * over `<timestamp>.<raw body>`, within the tolerance. Runs before the body is validated, so an unsigned caller
 * learns nothing about what a valid body looks like; a refused request writes nothing.
 */
@Injectable()
export class PaymentSignatureGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest & { rawBody?: Buffer }>();
    const header = request.headers[SIGNATURE_HEADER];
    const verdict = verifySignature(
      typeof header === 'string' ? header : undefined,
      request.rawBody ?? Buffer.alloc(0),
      this.config.payments.webhookSecret,
      Math.floor(Date.now() / 1000),
    );
    if (!verdict.valid) {
      throw new HttpProblem(
        problem(401, 'INVALID_SIGNATURE', REFUSALS[verdict.reason], { check: verdict.reason }),
      );
    }
    return true;
  }
}
