import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { startService, type ServiceProcess } from './service-process.js';

/**
 * Several service processes (`node dist/main.js`) sharing one configuration but for their `INSTANCE_ID`, as
 * behind a load balancer: the tests pick the instance of each request. An instance can be killed (-9),
 * stopped (SIGTERM) and started again under the same id (on a new port, as a restarted container gets).
 */
export class ServiceCluster {
  private readonly services: (ServiceProcess | null)[];
  /** Everything the stopped or killed processes wrote, for a failure's message. */
  private readonly history: string[] = [];
  private dataDir: string | null = null;
  private readonly starting = new Set<Promise<ServiceProcess>>();

  constructor(
    private readonly env: Record<string, string>,
    readonly ids: readonly string[],
  ) {
    this.services = ids.map(() => null);
  }

  /**
   * Starts every instance at once. (FerretDB 1.24, CI's MongoDB, panics now and then on the same `createIndexes`
   * sent by several clients at once and drops that connection: the service's read store retries it, so no start
   * is retried here — a start that fails fails the suite.)
   */
  async startAll(): Promise<void> {
    this.dataDir ??= await mkdtemp(join(tmpdir(), 'ordertrail-cluster-'));
    // Settled, not Promise.all: when one start fails, the others are still starting, and must be known (to be
    // stopped) before the failure is reported — else they outlive the suite.
    const starts = await Promise.allSettled(this.ids.map((_, i) => this.start(i)));
    const failed = starts.find((start) => start.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Starts instance `i` (a no-op when it runs) and waits until it answers /health/live. */
  start(i: number): Promise<ServiceProcess> {
    const starting = this.launch(i);
    // stopAll waits for starts still under way (a case that failed meanwhile), so none outlives the suite.
    this.starting.add(starting);
    void starting.then(
      () => this.starting.delete(starting),
      () => this.starting.delete(starting),
    );
    return starting;
  }

  private async launch(i: number): Promise<ServiceProcess> {
    const running = this.services[i];
    if (running && running.child.exitCode === null && running.child.signalCode === null) return running;
    this.dataDir ??= await mkdtemp(join(tmpdir(), 'ordertrail-cluster-'));
    const service = await startService({
      ...this.env,
      INSTANCE_ID: this.ids[i]!,
      // Not used by the PostgreSQL and MongoDB stores; set so that nothing lands in the working directory.
      DATA_DIR: join(this.dataDir, this.ids[i]!),
    });
    this.services[i] = service;
    return service;
  }

  /** Whether instance `i` runs (was started and has not exited). */
  running(i: number): boolean {
    const service = this.services[i];
    return !!service && service.child.exitCode === null && service.child.signalCode === null;
  }

  /** The indexes of the running instances. */
  live(): number[] {
    return this.ids.map((_, i) => i).filter((i) => this.running(i));
  }

  /** The URL of instance `i` (throws when it is not running). */
  url(i: number): string {
    const service = this.services[i];
    if (!service || !this.running(i)) throw new Error(`instance ${this.ids[i]} is not running`);
    return service.url;
  }

  /** The URL instance `i` had last (running or not): requests to a stopped one fail as they would. */
  lastUrl(i: number): string {
    const service = this.services[i];
    if (!service) throw new Error(`instance ${this.ids[i]} never started`);
    return service.url;
  }

  indexOf(instanceId: string): number {
    return this.ids.indexOf(instanceId);
  }

  async kill9(i: number): Promise<void> {
    const service = this.services[i];
    if (!service) return;
    await service.kill9();
    this.keepOutput(i, service, 'kill -9');
  }

  /** SIGTERM, then waits for the process to exit. */
  async stop(i: number): Promise<void> {
    const service = this.services[i];
    if (!service) return;
    await service.stop();
    this.keepOutput(i, service, `stopped (exit ${service.child.exitCode ?? service.child.signalCode})`);
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.starting]);
    await Promise.all(this.ids.map((_, i) => this.stop(i)));
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
    this.dataDir = null;
  }

  /** What every process wrote (for a failure's message): the stopped ones' output and the running ones'. */
  output(): string {
    const current = this.services.flatMap((service, i) =>
      service && this.running(i) ? [this.describe(i, service, 'running')] : [],
    );
    return [...this.history, ...current].join('\n');
  }

  private keepOutput(i: number, service: ServiceProcess, how: string): void {
    const text = this.describe(i, service, how);
    if (!this.history.includes(text)) this.history.push(text);
  }

  private describe(i: number, service: ServiceProcess, how: string): string {
    const out = `${service.stdout()}${service.stderr()}`.trim();
    return `--- ${this.ids[i]} (${service.url}, ${how}) ---\n${out.slice(-4000) || '(no output)'}`;
  }
}

/** Bearer tokens for the cluster's clients (one hour). */
export function bearer(secret: string, sub: string, role: 'shopper' | 'operator' | 'auditor'): string {
  const jwt = new JwtService({ secret, signOptions: { expiresIn: '1h' } });
  return `Bearer ${jwt.sign({ sub, roles: [role] })}`;
}

export interface Answer<T> {
  readonly status: number;
  /** The parsed JSON (as T: the caller says what it expects), or the text when it is not JSON. */
  readonly body: T;
  readonly headers: Headers;
}

/** One HTTP request with a deadline (a hung instance fails the request instead of the suite's timeout). */
export async function request<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  authorization: string,
  {
    body,
    headers = {},
    timeoutMs = 20_000,
  }: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer<T>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // NDJSON or text: kept as it is
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
