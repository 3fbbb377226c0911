/**
 * The service's environment variables as one validated class: each variable's type, bounds and default.
 * app-config.ts turns a validated set into the AppConfig the service uses.
 */
import { hostname } from 'node:os';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

/** The secret used when NODE_ENV=development and AUTH_JWT_SECRET is unset. Never valid in production. */
export const DEV_JWT_SECRET = 'ordertrail-dev-secret-change-me';
/** The webhook secret used when NODE_ENV=development and PAYMENT_WEBHOOK_SECRET is unset. Public: never in production. */
export const DEV_PAYMENT_WEBHOOK_SECRET = 'ordertrail-dev-payment-webhook-secret-change-me';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** `name=ms` pairs separated by commas (spaces around them allowed). */
export const FRESHNESS_BUDGETS_SYNTAX =
  /^\s*[a-z][a-z0-9_]{0,63}\s*=\s*\d{1,9}\s*(?:,\s*[a-z][a-z0-9_]{0,63}\s*=\s*\d{1,9}\s*)*$/;
/** Bounds of a freshness budget, in milliseconds. */
export const FRESHNESS_BUDGET_RANGE = { min: 1, max: 3_600_000 } as const;

/** Variables whose values never appear in an error message (or anywhere else). */
export const SECRETS = new Set([
  'AUTH_JWT_SECRET',
  'METRICS_TOKEN',
  'PAYMENT_WEBHOOK_SECRET',
  'POSTGRES_URL',
]);

/** Environment variables, validated at boot (see .env.example for what each one does). */
export class EnvironmentVariables {
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
