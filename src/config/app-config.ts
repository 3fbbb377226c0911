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

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

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
  @Matches(/^(esdb|esdb\+discover|kurrentdb|kurrentdb\+discover|kurrent|kurrent\+discover):\/\//, {
    message: 'EVENTSTORE_CONNECTION_STRING must start with esdb:// or esdb+discover://',
  })
  EVENTSTORE_CONNECTION_STRING?: string;

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

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  PROJECTION_MAX_RETRIES = 5;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(512)
  AUTH_JWT_SECRET?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  SNAPSHOT_EVERY = 100;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  SNAPSHOTS_KEPT = 5;

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
}

export interface AppConfig {
  readonly nodeEnv: 'production' | 'development' | 'test';
  readonly http: { readonly port: number; readonly host: string; readonly bodyLimitBytes: number };
  readonly eventStore:
    | { readonly kind: 'embedded'; readonly file: string }
    | { readonly kind: 'esdb'; readonly connectionString: string };
  readonly auth: { readonly jwtSecret: string; readonly usingDevSecret: boolean };
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
    readonly maxRetries: number;
  };
  readonly logLevel: string;
  readonly dataDir: string;
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
  for (const key of [...known, 'EVENTSTORE_CONNECTION_STRING', 'AUTH_JWT_SECRET', 'MONGODB_URI']) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const vars = plainToInstance(EnvironmentVariables, raw);
  const errors = validateSync(vars, { whitelist: true });
  const problems = errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map(
      (m) => `${e.property}=${JSON.stringify(raw[e.property] ?? '')}: ${m}`,
    ),
  );
  if (vars.AUTH_JWT_SECRET === undefined && vars.NODE_ENV !== 'development') {
    problems.push(
      'AUTH_JWT_SECRET is required (at least 16 characters) unless NODE_ENV=development, which uses a public dev secret',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = vars.DATA_DIR.replace(/\/+$/, '') || '/';
  return {
    nodeEnv: vars.NODE_ENV,
    http: { port: vars.PORT, host: vars.HOST, bodyLimitBytes: vars.BODY_LIMIT_BYTES },
    eventStore: vars.EVENTSTORE_CONNECTION_STRING
      ? { kind: 'esdb', connectionString: vars.EVENTSTORE_CONNECTION_STRING }
      : { kind: 'embedded', file: `${dataDir}/events.sqlite` },
    readStore: vars.MONGODB_URI
      ? { kind: 'mongo', uri: vars.MONGODB_URI }
      : { kind: 'embedded', file: `${dataDir}/read.sqlite` },
    readSide: {
      readWaitMs: vars.READ_WAIT_MS,
      batchSize: vars.PROJECTION_BATCH_SIZE,
      maxRetries: vars.PROJECTION_MAX_RETRIES,
    },
    auth: {
      jwtSecret: vars.AUTH_JWT_SECRET ?? DEV_JWT_SECRET,
      usingDevSecret: vars.AUTH_JWT_SECRET === undefined,
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
  };
}

/** DI token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
