import { hostname } from 'node:os';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/** The secret used when NODE_ENV=development and AUTH_JWT_SECRET is unset. Never valid in production. */
export const DEV_JWT_SECRET = 'ordertrail-dev-secret-change-me';
/** The webhook secret used when NODE_ENV=development and PAYMENT_WEBHOOK_SECRET is unset. Public: never in production. */
export const DEV_PAYMENT_WEBHOOK_SECRET = 'ordertrail-dev-payment-webhook-secret-change-me';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** `name=ms` pairs separated by commas (spaces around them allowed). */
const FRESHNESS_BUDGETS_SYNTAX =
  /^\s*[a-z][a-z0-9_]{0,63}\s*=\s*\d{1,9}\s*(?:,\s*[a-z][a-z0-9_]{0,63}\s*=\s*\d{1,9}\s*)*$/;
/** Bounds of a freshness budget, in milliseconds. */
export const FRESHNESS_BUDGET_RANGE = { min: 1, max: 3_600_000 } as const;

/** Variables whose values never appear in an error message (or anywhere else). */
const SECRETS = new Set(['AUTH_JWT_SECRET', 'METRICS_TOKEN', 'PAYMENT_WEBHOOK_SECRET', 'POSTGRES_URL']);

/** Environment variables, validated at boot (see .env.example for what each one does). */
class EnvironmentVariables {
  @IsIn(['production', 'development', 'test'])
  NODE_ENV: 'production' | 'development' | 'test' = 'production';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  // Only the schemes @eventstore/db-client 6.2.1 parses: it refuses kurrentdb:// (its successor's) at start.
  @Matches(/^(esdb|esdb\+discover):\/\//, {
    message:
      'EVENTSTORE_CONNECTION_STRING must start with esdb:// or esdb+discover:// (kurrentdb:// is not understood by @eventstore/db-client 6.2.1)',
  })
  EVENTSTORE_CONNECTION_STRING?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^postgres(ql)?:\/\/[^\s]*$/, {
    message:
      'POSTGRES_URL must be a postgres:// or postgresql:// URL (e.g. postgres://user:password@host:5432/db)',
  })
  POSTGRES_URL?: string;

  /** The schema of the PostgreSQL event store's tables (created if missing). */
  @Matches(/^[a-z_][a-z0-9_]{0,39}$/, {
    message: 'POSTGRES_SCHEMA must be 1 to 40 lower-case letters, digits or _, not starting with a digit',
  })
  POSTGRES_SCHEMA = 'ordertrail';

  /** This instance's name: the owner of the consumer groups it delivers (PostgreSQL), in logs and views. */
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'INSTANCE_ID must be 1 to 200 visible ASCII characters' })
  INSTANCE_ID = `${hostname()}:${process.pid}`;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^mongodb(\+srv)?:\/\//, { message: 'MONGODB_URI must start with mongodb:// or mongodb+srv://' })
  MONGODB_URI?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  READ_WAIT_MS = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  PROJECTION_BATCH_SIZE = 500;

  /** Documents each projection keeps in its write-through cache (0: none; every step reads its document). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  PROJECTION_CACHE_DOCUMENTS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  PROJECTION_MAX_RETRIES = 5;

  /**
   * Freshness budgets that replace the ones the projections declare: `carts=1000,order_search=5000` (names of
   * projections, milliseconds). Checked against the projections the service runs at start.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(FRESHNESS_BUDGETS_SYNTAX, {
    message:
      'FRESHNESS_BUDGETS must be <projection>=<milliseconds> pairs separated by commas, e.g. carts=1000,order_search=5000',
  })
  FRESHNESS_BUDGETS?: string;

  /** Work waiting and no batch handled for this long: the projection is `stalled` (health turns red). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  PROJECTION_STALL_MS = 10_000;

  /** Idle heartbeat of the delivery loops, and how often each instance re-reads the paused flags. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  PROJECTION_HEARTBEAT_MS = 1000;

  /**
   * A consumer group's lease (PostgreSQL, several instances): its owner renews it every third of this; when
   * the owner stops renewing (it died), another instance takes the group over after this long.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  PROJECTION_LEASE_MS = 10_000;

  /**
   * Documents each projection compares with a fold of its stream per second, in the background (continuous
   * consistency monitoring); 0 turns it off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  CONSISTENCY_SAMPLES_PER_SECOND = 2;

  /** Events per page of a rebuild's (or verify's) catch-up read. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50_000)
  REBUILD_PAGE_SIZE = 2000;

  /** A pause between pages of a rebuild's catch-up read, to spare a busy read store (0: none). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  REBUILD_PAGE_DELAY_MS = 0;

  /** How long a replaced generation keeps existing after a rebuild's switch before it is dropped. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  REBUILD_DROP_GRACE_MS = 5000;

  /** A running job not renewed by its instance for this long is taken over by another one. */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  PROJECTION_JOB_LEASE_MS = 15_000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(512)
  AUTH_JWT_SECRET?: string;

  /** Shared with the payment provider: its webhooks are signed with it (HMAC-SHA256). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32)
  @MaxLength(512)
  PAYMENT_WEBHOOK_SECRET?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  SNAPSHOT_EVERY = 100;

  /** 0: keep every snapshot (time travel starts from the nearest one); N: only the newest N. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  SNAPSHOTS_KEPT = 0;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  IDEMPOTENCY_KEYS_PER_STREAM = 500;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  AGGREGATE_CACHE_SIZE = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  COMMAND_RETRIES = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 65_536;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^[\x21-\x7e]{32,512}$/, {
    message: 'METRICS_TOKEN must be 32 to 512 visible ASCII characters (e.g. openssl rand -hex 32)',
  })
  METRICS_TOKEN?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  RATE_LIMIT_PER_MINUTE = 0;
}

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
