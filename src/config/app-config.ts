import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  DEV_JWT_SECRET,
  DEV_PAYMENT_WEBHOOK_SECRET,
  EnvironmentVariables,
  FRESHNESS_BUDGET_RANGE,
  FRESHNESS_BUDGETS_SYNTAX,
  SECRETS,
} from './environment-variables.js';

export {
  DEV_JWT_SECRET,
  DEV_PAYMENT_WEBHOOK_SECRET,
  FRESHNESS_BUDGET_RANGE,
} from './environment-variables.js';

export interface AppConfig {
  readonly nodeEnv: 'production' | 'development' | 'test';
  readonly http: { readonly port: number; readonly host: string; readonly bodyLimitBytes: number };
  readonly eventStore:
    | { readonly kind: 'embedded'; readonly file: string }
    | { readonly kind: 'esdb'; readonly connectionString: string }
    | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };
  /** INSTANCE_ID: this instance's name (default `<hostname>:<pid>`), the owner of what it runs. */
  readonly instanceId: string;
  readonly auth: { readonly jwtSecret: string; readonly usingDevSecret: boolean };
  readonly payments: { readonly webhookSecret: string; readonly usingDevSecret: boolean };
  readonly aggregates: {
    readonly snapshotEvery: number;
    readonly snapshotsKept: number;
    readonly idempotencyKeysPerStream: number;
    readonly cacheSize: number;
    readonly commandRetries: number;
  };
  readonly readStore:
    { readonly kind: 'embedded'; readonly file: string } | { readonly kind: 'mongo'; readonly uri: string };
  readonly readSide: {
    /** How long a read with `minRevision` waits for its projection. */
    readonly readWaitMs: number;
    readonly batchSize: number;
    /** Documents each projection keeps in its write-through cache. */
    readonly documentCacheSize: number;
    readonly maxRetries: number;
    /** Work waiting and no batch for this long: `stalled`. */
    readonly stallMs: number;
    /** Idle heartbeat period; also how often paused flags are re-read. */
    readonly heartbeatMs: number;
    /** Lease of a consumer group (PostgreSQL): taken over by another instance when not renewed for this long. */
    readonly leaseMs: number;
    /**
     * Freshness budgets set by FRESHNESS_BUDGETS, by projection name, in ms (the others keep the budget their
     * projection declares). The names are checked against the projections at start (resolveFreshnessBudgets).
     */
    readonly freshnessBudgets: Readonly<Record<string, number>>;
    /** Documents each projection's consistency sampler compares per second (0: off). */
    readonly consistencySamplesPerSecond: number;
  };
  readonly projectionJobs: {
    /** Events per page of a rebuild's catch-up read. */
    readonly pageSize: number;
    /** Pause between pages (throttling). */
    readonly pageDelayMs: number;
    /** Grace delay before a replaced generation is dropped. */
    readonly dropGraceMs: number;
    /** Lease of a running job (take-over by another instance after it). */
    readonly leaseMs: number;
  };
  readonly logLevel: string;
  readonly dataDir: string;
  readonly observability: {
    /** Static bearer token that may read `/metrics` besides the operator role (null: operators only). */
    readonly metricsToken: string | null;
    /** Mutating requests per client (token subject, else IP) per minute; 0 turns rate limiting off. */
    readonly rateLimitPerMinute: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new EnvironmentVariables());
  const raw: Record<string, string> = {};
  for (const key of [
    ...known,
    'EVENTSTORE_CONNECTION_STRING',
    'POSTGRES_URL',
    'AUTH_JWT_SECRET',
    'PAYMENT_WEBHOOK_SECRET',
    'MONGODB_URI',
    'METRICS_TOKEN',
    'FRESHNESS_BUDGETS',
  ]) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { whitelist: true });
  const problems = errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map(
      (m) =>
        `${e.property}=${SECRETS.has(e.property) ? '(hidden)' : JSON.stringify(raw[e.property] ?? '')}: ${m}`,
    ),
  );
  if (vars.AUTH_JWT_SECRET === undefined && vars.NODE_ENV !== 'development') {
    problems.push(
      'AUTH_JWT_SECRET is required (at least 16 characters) unless NODE_ENV=development, which uses a public dev secret',
    );
  }
  if (vars.PAYMENT_WEBHOOK_SECRET === undefined && vars.NODE_ENV !== 'development') {
    problems.push(
      'PAYMENT_WEBHOOK_SECRET is required (at least 32 characters, shared with the payment provider) unless NODE_ENV=development, which uses a public dev secret',
    );
  }
  if (vars.EVENTSTORE_CONNECTION_STRING !== undefined && vars.POSTGRES_URL !== undefined) {
    problems.push(
      'EVENTSTORE_CONNECTION_STRING and POSTGRES_URL both select an event store: set only one of them (they are mutually exclusive)',
    );
  }
  const freshnessBudgets = parseFreshnessBudgets(vars.FRESHNESS_BUDGETS, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = vars.DATA_DIR.replace(/\/+$/, '') || '/';
  return {
    nodeEnv: vars.NODE_ENV,
    http: { port: vars.PORT, host: vars.HOST, bodyLimitBytes: vars.BODY_LIMIT_BYTES },
    eventStore: vars.EVENTSTORE_CONNECTION_STRING
      ? { kind: 'esdb', connectionString: vars.EVENTSTORE_CONNECTION_STRING }
      : vars.POSTGRES_URL
        ? { kind: 'postgres', url: vars.POSTGRES_URL, schema: vars.POSTGRES_SCHEMA }
        : { kind: 'embedded', file: `${dataDir}/events.sqlite` },
    instanceId: vars.INSTANCE_ID,
    readStore: vars.MONGODB_URI
      ? { kind: 'mongo', uri: vars.MONGODB_URI }
      : { kind: 'embedded', file: `${dataDir}/read.sqlite` },
    readSide: {
      readWaitMs: vars.READ_WAIT_MS,
      batchSize: vars.PROJECTION_BATCH_SIZE,
      documentCacheSize: vars.PROJECTION_CACHE_DOCUMENTS,
      maxRetries: vars.PROJECTION_MAX_RETRIES,
      stallMs: vars.PROJECTION_STALL_MS,
      heartbeatMs: vars.PROJECTION_HEARTBEAT_MS,
      leaseMs: vars.PROJECTION_LEASE_MS,
      freshnessBudgets,
      consistencySamplesPerSecond: vars.CONSISTENCY_SAMPLES_PER_SECOND,
    },
    projectionJobs: {
      pageSize: vars.REBUILD_PAGE_SIZE,
      pageDelayMs: vars.REBUILD_PAGE_DELAY_MS,
      dropGraceMs: vars.REBUILD_DROP_GRACE_MS,
      leaseMs: vars.PROJECTION_JOB_LEASE_MS,
    },
    auth: {
      jwtSecret: vars.AUTH_JWT_SECRET ?? DEV_JWT_SECRET,
      usingDevSecret: vars.AUTH_JWT_SECRET === undefined,
    },
    payments: {
      webhookSecret: vars.PAYMENT_WEBHOOK_SECRET ?? DEV_PAYMENT_WEBHOOK_SECRET,
      usingDevSecret: vars.PAYMENT_WEBHOOK_SECRET === undefined,
    },
    aggregates: {
      snapshotEvery: vars.SNAPSHOT_EVERY,
      snapshotsKept: vars.SNAPSHOTS_KEPT,
      idempotencyKeysPerStream: vars.IDEMPOTENCY_KEYS_PER_STREAM,
      cacheSize: vars.AGGREGATE_CACHE_SIZE,
      commandRetries: vars.COMMAND_RETRIES,
    },
    logLevel: vars.LOG_LEVEL,
    dataDir,
    observability: {
      metricsToken: vars.METRICS_TOKEN ?? null,
      rateLimitPerMinute: vars.RATE_LIMIT_PER_MINUTE,
    },
  };
}

/**
 * `carts=1000, order_search=5000` → `{carts: 1000, order_search: 5000}` (the syntax is checked before); a
 * budget out of range or a name given twice is a problem naming the variable.
 */
function parseFreshnessBudgets(value: string | undefined, problems: string[]): Record<string, number> {
  const budgets: Record<string, number> = {};
  if (value === undefined || !FRESHNESS_BUDGETS_SYNTAX.test(value)) return budgets;
  const { min, max } = FRESHNESS_BUDGET_RANGE;
  for (const pair of value.split(',')) {
    const [name = '', ms = ''] = pair.split('=').map((part) => part.trim());
    const budget = Number(ms);
    if (Object.hasOwn(budgets, name)) {
      problems.push(`FRESHNESS_BUDGETS: ${name} is given twice`);
    } else if (budget < min || budget > max) {
      problems.push(`FRESHNESS_BUDGETS: ${name}=${ms}: a budget is ${min} to ${max} milliseconds`);
    }
    budgets[name] = budget;
  }
  return budgets;
}

/** DI token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
