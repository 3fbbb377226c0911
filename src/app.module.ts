import { createSecretKey } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { JwtModule } from '@nestjs/jwt';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from './audit/audit.module.js';
import { AuthGuard } from './auth/auth.guard.js';
import { CartsModule } from './carts/carts.module.js';
import { CatalogModule } from './catalog/catalog.module.js';
import { CheckoutModule } from './checkout/checkout.module.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { EventStoreModule } from './event-store/event-store.module.js';
import { loggerParams } from './operations/logging.js';
import { OperationsModule } from './operations/operations.module.js';
import { rateLimitModule } from './operations/rate-limit.js';
import { OrdersModule } from './orders/orders.module.js';
import { PaymentsModule } from './payments/payments.module.js';
import { PROJECTIONS } from './projections.js';
import { ReadSideModule } from './read-side/read-side.module.js';
import { WritePathModule } from './write-path/write-path.module.js';
import { ProblemDetailsFilter } from './shared/http/problem-details.filter.js';

/** Composition root: the only place where configuration picks adapters. */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a public key
    // on every verify, which cost ~40 % of the CPU of a command under load.
    const jwtKey = createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8'));
    const rateLimit = rateLimitModule(config);
    return {
      module: AppModule,
      global: true,
      imports: [
        LoggerModule.forRoot(loggerParams(config)),
        CqrsModule.forRoot(),
        JwtModule.register({
          secretOrKeyProvider: () => jwtKey,
          signOptions: { algorithm: 'HS256' },
          verifyOptions: { algorithms: ['HS256'] },
        }),
        // Before the write path: Nest shuts modules down in reverse order (snapshots flushed, then the store closed).
        EventStoreModule,
        WritePathModule,
        ReadSideModule.forRoot(PROJECTIONS),
        CatalogModule,
        CartsModule,
        OrdersModule,
        CheckoutModule,
        PaymentsModule,
        AuditModule,
        OperationsModule,
        // Last: its global guard (RATE_LIMIT_PER_MINUTE > 0) runs after the auth guard, keyed on the subject.
        ...(rateLimit ? [rateLimit] : []),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
      // JwtModule: route-level guards (e.g. /metrics) verify tokens like the global auth guard.
      exports: [APP_CONFIG, JwtModule],
    };
  }
}
