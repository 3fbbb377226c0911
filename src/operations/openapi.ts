import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { OPENAPI_PUBLIC, OPENAPI_ROLES, OPENAPI_SIGNED } from '../auth/roles.decorator.js';
import { SKU_PATTERN } from '../shared/domain/index.js';
import { MAX_PATH_SEGMENT } from '../shared/http/http-hardening.js';
import { PROBLEM_CONTENT_TYPE } from '../shared/http/problem.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FreshnessMonitor } from '../read-side/runtime/freshness.js';
import { CONSUMER_NAME } from './http/admin.dto.js';
import {
  contractExtension,
  contractSentence,
  openApiRoute,
  READ_CONTRACTS,
  type ReadContract,
} from './read-contracts.js';

export const DOCS_PATH = 'docs';
export const DOCS_JSON_PATH = 'docs/json';
const BEARER = 'bearer';
const PAYMENT_SIGNATURE = 'paymentSignature';

type Operation = {
  responses?: Record<string, unknown>;
  requestBody?: { required?: boolean; content?: Record<string, { schema: Record<string, unknown> }> };
  security?: Record<string, string[]>[];
  description?: string;
  parameters?: { in: string; name: string; [more: string]: unknown }[];
  [extension: `x-${string}`]: unknown;
};

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable and machine-readable.',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', format: 'uri', example: 'https://ordertrail.dev/problems/cart-closed' },
    title: { type: 'string', example: 'Conflict' },
    status: { type: 'integer', example: 409 },
    detail: { type: 'string' },
    instance: { type: 'string', example: '/carts/0b9d…/items' },
    code: { type: 'string', example: 'CART_CLOSED' },
    currentRevision: {
      type: 'integer',
      nullable: true,
      description: 'On 409 CONCURRENT_MODIFICATION and 412 REVISION_MISMATCH: the current revision',
    },
    check: {
      type: 'string',
      description:
        'On 401 UNAUTHORIZED and 401 INVALID_SIGNATURE: which check refused the token or the signature ' +
        '(e.g. missing, malformed, signature, expired)',
    },
    errors: {
      type: 'array',
      description: 'On 400 VALIDATION_FAILED: every offending field',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

const PROBLEMS: Record<string, string> = {
  '400':
    'Invalid request: VALIDATION_FAILED (with `errors`), MALFORMED_JSON, JSON_TOO_DEEP, FORBIDDEN_JSON_KEY, ' +
    'EMPTY_BODY, BODY_NOT_AN_OBJECT, a bad header (INVALID_IDEMPOTENCY_KEY, INVALID_IF_MATCH), BAD_URL, ' +
    'BAD_FRAMING, MALFORMED_REQUEST, MISSING_HOST',
  '401':
    'Missing, invalid or expired bearer token (UNAUTHORIZED), or a refused payment signature ' +
    '(INVALID_SIGNATURE); `check` says which check failed',
  '403': 'The token has none of the roles the route accepts',
  '404': 'No such resource (also: one the caller may not see)',
  '409': 'A business rule forbids it in the current state, or the command kept losing races',
  '412': 'If-Match names a revision that is not current',
  '413': 'The body is larger than BODY_LIMIT_BYTES',
  '414': 'URI_TOO_LONG: a path segment longer than any id, or a URL over the header limit',
  '415': 'The body is not application/json',
  '422': 'The request breaks a rule (or reuses an Idempotency-Key with another body)',
  '429': 'Rate limit (RATE_LIMIT_PER_MINUTE) exceeded; see Retry-After',
  '431': 'HEADERS_TOO_LARGE: the request line and headers are over the limit (16 KB by default)',
  '500': 'INTERNAL_ERROR: a fault of the service (logged; never a stack trace in the answer)',
  '503':
    'The event store or read store is unavailable, or this instance is stopping (SERVICE_STOPPING); retry ' +
    'shortly (Retry-After). On a list: READ_MODEL_TOO_STALE, the read model is staler than max-stale / ' +
    'maxStaleMs allows (`staleness`, `maxStale` in ms; Retry-After: its freshness budget)',
};

/** What the running service says of its read contracts: the budgets and READ_WAIT_MS in force. */
export interface ContractRuntime {
  readonly budgets?: ReadonlyMap<string, number>;
  readonly readWaitMs?: number;
}

/**
 * What any request may be answered, whatever its route: the HTTP layer's refusals, a fault of ours, and 503
 * SERVICE_STOPPING (a request on a connection kept alive into a stop).
 */
const EVERY_ROUTE = ['400', '414', '431', '500', '503'];

const CORRELATION_HEADER = {
  in: 'header',
  name: 'X-Correlation-Id',
  required: false,
  description:
    'Traces the request: echoed on the response, on every log line of the request and in the metadata of ' +
    'every event it causes. Any value is taken: 1–128 of A-Z a-z 0-9 . _ : - is used as it is, anything else ' +
    'is replaced by a new UUID (never refused).',
  schema: { type: 'string' },
};

/** The request directive a bounded read honours (docs/consistency.md#bounding-staleness-max-stale). */
const CACHE_CONTROL_HEADER = {
  in: 'header',
  name: 'Cache-Control',
  required: false,
  description:
    '`max-stale=<seconds>`: the most stale the answer may be (RFC 9111 §5.2.1.2; a bare `max-stale` accepts ' +
    'any staleness); with `?maxStaleMs` the stricter holds. A `max-stale` whose argument is not whole seconds ' +
    'is 400 INVALID_CACHE_CONTROL; other directives are ignored.',
  schema: { type: 'string' },
  example: 'max-stale=2',
};

const UUID_ANY_CASE =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';

/**
 * What each path parameter can be, by name (and path): what the route's pipe takes; anything else names nothing
 * (404), and a segment longer than MAX_PATH_SEGMENT is 414 before any route runs.
 */
function pathParameterSchema(path: string, name: string): Record<string, unknown> {
  if (name === 'sku') return { type: 'string', pattern: SKU_PATTERN.source };
  if (name === 'name') return { type: 'string', pattern: CONSUMER_NAME.source };
  if (name === 'id' && !path.startsWith('/customers/')) {
    return { type: 'string', pattern: UUID_ANY_CASE, description: 'A UUID (any letter case)' };
  }
  return { type: 'string', minLength: 1, maxLength: MAX_PATH_SEGMENT };
}

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

function problemResponse(description: string): unknown {
  return {
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

/**
 * Completes what the decorators say with what holds for every route by construction, so routes added later
 * get it too: the bearer security scheme (none on public routes), the roles (from @Roles), and the
 * problem+json error answers the HTTP edge can give for that kind of route.
 */
export function completeDocument(document: OpenAPIObject, runtime: ContractRuntime = {}): OpenAPIObject {
  const contracts = new Map<string, ReadContract>(
    Object.entries(READ_CONTRACTS).map(([route, contract]) => [openApiRoute(route), contract]),
  );
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.Problem = PROBLEM_SCHEMA;
  for (const [path, item] of Object.entries(document.paths)) {
    const operations = item as Record<string, Operation>;
    for (const [method, value] of Object.entries(operations)) {
      if (typeof value !== 'object' || value === null || !('responses' in value)) continue;
      const operation = value;
      const isPublic = operation[OPENAPI_PUBLIC] === true;
      const isSigned = operation[OPENAPI_SIGNED] === true;
      const roles = operation[OPENAPI_ROLES] as string[] | undefined;
      delete operation[OPENAPI_PUBLIC];
      delete operation[OPENAPI_SIGNED];
      delete operation[OPENAPI_ROLES];
      const statuses: string[] = [...EVERY_ROUTE];
      if (isPublic) {
        operation.security = [];
      } else if (isSigned) {
        operation.security = [{ [PAYMENT_SIGNATURE]: [] }];
        statuses.push('401', '404', '413', '415', '422', '503');
      } else {
        operation.security = [{ [BEARER]: [] }];
        if (roles) {
          const note = `Roles: ${roles.join(', ')}.`;
          operation.description = operation.description ? `${operation.description}\n\n${note}` : note;
        }
        statuses.push('401', '403', '503');
        if (path.includes('{')) statuses.push('404');
        if (MUTATING.has(method)) statuses.push('409', '413', '415', '429');
        const headers = new Set(
          (operation.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name),
        );
        if (headers.has('If-Match')) statuses.push('412');
        if (headers.has('Idempotency-Key')) statuses.push('422');
      }
      operation.parameters ??= [];
      for (const parameter of operation.parameters) {
        if (parameter.in === 'path') parameter.schema = pathParameterSchema(path, parameter.name);
      }
      if (!operation.parameters.some((p) => p.in === 'header' && p.name === 'X-Correlation-Id')) {
        operation.parameters.push(CORRELATION_HEADER);
      }
      operation.responses ??= {};
      for (const status of [...new Set(statuses)].sort()) {
        operation.responses[status] ??= problemResponse(PROBLEMS[status]!);
      }
      completeRequestBody(document, operation, !isSigned);
      const contract = method === 'get' ? contracts.get(`GET ${path}`) : undefined;
      if (contract) {
        if (
          contract.clientBound &&
          !operation.parameters.some((p) => p.in === 'header' && p.name === 'Cache-Control')
        ) {
          operation.parameters.push(CACHE_CONTROL_HEADER);
        }
        operation['x-read-contract'] = contractExtension(contract, runtime);
        const sentence = contractSentence(contract, runtime);
        operation.description = operation.description ? `${operation.description}\n\n${sentence}` : sentence;
      }
    }
  }
  return document;
}

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; [more: string]: unknown };

/**
 * What holds for every request body by construction: `additionalProperties: false` on its object schemas (and
 * the objects they hold) when `strict` — the strict validation refuses every field it does not know (not on the
 * payment webhook's, which ignores them) — and a body whose fields are all optional may be left out (it is then
 * taken as `{}`).
 */
function completeRequestBody(document: OpenAPIObject, operation: Operation, strict: boolean): void {
  const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? (schemas[schema.$ref.replace('#/components/schemas/', '')] ?? {}) : schema;
  const bodies = Object.values(operation.requestBody?.content ?? {}).map((media) => media.schema as Schema);
  if (operation.requestBody && bodies.every((schema) => !(resolve(schema).required as unknown[])?.length)) {
    operation.requestBody.required = false;
  }
  if (!strict) return;
  const pending: Schema[] = [...bodies];
  const seen = new Set<Schema>();
  while (pending.length > 0) {
    const schema = resolve(pending.pop()!);
    if (seen.has(schema)) continue;
    seen.add(schema);
    if (schema.type === 'object' || schema.properties) {
      schema.additionalProperties ??= false;
      pending.push(...Object.values(schema.properties ?? {}));
    }
  }
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ordertrail')
    .setDescription(
      'Event-sourced carts and orders. Every route but `/health/*`, `/docs` and the payment provider’s signed ' +
        'webhook (`POST /webhooks/payments`) needs ' +
        '`Authorization: Bearer <JWT>` (HS256, claims `sub` and `roles`). Errors are ' +
        '`application/problem+json` (RFC 9457) with a stable `code`. Mutations accept `Idempotency-Key` and ' +
        '`If-Match`; every response carries `X-Correlation-Id`. A method a path does not serve is ' +
        '`405 METHOD_NOT_ALLOWED` with `Allow` (e.g. `PUT /carts`, `OPTIONS`, `TRACE`). JSON bodies nest at most ' +
        '32 levels (`400 JSON_TOO_DEEP`); keys `__proto__` and `constructor` are refused anywhere in a body ' +
        '(`400 FORBIDDEN_JSON_KEY`).',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER)
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'Payment-Signature',
        description:
          'The payment provider signs its webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"` ' +
          'keyed by PAYMENT_WEBHOOK_SECRET',
      },
      PAYMENT_SIGNATURE,
    )
    .build();
  const freshness = app.get(FreshnessMonitor, { strict: false });
  const appConfig = app.get<AppConfig>(APP_CONFIG, { strict: false });
  return completeDocument(SwaggerModule.createDocument(app, config), {
    budgets: freshness.budgets,
    readWaitMs: appConfig.readSide.readWaitMs,
  });
}

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The Swagger UI files served under /docs (from swagger-ui-dist), by name: nothing else is readable. */
const UI_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ordertrail API</title>
  <link rel="stylesheet" href="/${DOCS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="/${DOCS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/${DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script src="/${DOCS_PATH}/swagger-ui-standalone-preset.js"></script>
  <script src="/${DOCS_PATH}/swagger-ui-init.js"></script>
</body>
</html>
`;

const UI_INIT = `window.ui = SwaggerUIBundle({
  url: '/${DOCS_JSON_PATH}',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  persistAuthorization: false,
});
`;

/**
 * Serves the document at `/docs/json` (@nestjs/swagger) and Swagger UI at `/docs` (the swagger-ui-dist
 * files, read once, served from memory), both anonymous: the document describes the public API (routes,
 * shapes, roles), the same as the README — no data, no secret. The document is built once, on the first
 * request, from the routes the app registered. (Not @fastify/static, which @nestjs/swagger would use: it
 * requires an ESM-only package from CommonJS, which Jest cannot load on Node 20.)
 */
export function serveOpenApi(app: INestApplication): void {
  let document: OpenAPIObject | null = null;
  SwaggerModule.setup(DOCS_PATH, app, () => (document ??= buildOpenApiDocument(app)), {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    ui: false,
  });
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  const assets = new Map<string, Buffer>();
  fastify.get(`/${DOCS_PATH}`, (_request, reply) => {
    void reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache');
    return reply.send(UI_PAGE);
  });
  fastify.get(`/${DOCS_PATH}/swagger-ui-init.js`, (_request, reply) => {
    void reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache');
    return reply.send(UI_INIT);
  });
  fastify.get<{ Params: { asset: string } }>(`/${DOCS_PATH}/:asset`, (request, reply) => {
    const name = request.params.asset;
    const type = Object.hasOwn(UI_ASSETS, name) ? UI_ASSETS[name] : undefined;
    if (!type) return reply.callNotFound();
    let body = assets.get(name);
    if (!body) {
      body = readFileSync(join(SWAGGER_UI_DIR, name));
      assets.set(name, body);
    }
    void reply.header('content-type', type).header('cache-control', 'public, max-age=86400');
    return reply.send(body);
  });
}

export interface RegisteredRoute {
  readonly method: string;
  /** The pattern, e.g. `/carts/:id/items`. */
  readonly url: string;
}

const ROUTES = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Starts collecting every route added to the Fastify instance (call before the app registers its routes). */
export function collectRoutes(fastify: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  ROUTES.set(fastify, routes);
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
}

/** The routes collected by {@link collectRoutes}: what the service really answers (for the docs test). */
export function registeredRoutes(fastify: FastifyInstance): readonly RegisteredRoute[] {
  return ROUTES.get(fastify) ?? [];
}
