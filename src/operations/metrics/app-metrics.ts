import { Injectable, Logger, Optional } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FreshnessMonitor } from '../../read-side/runtime/freshness.js';
import type { CommandReport } from '../../write-path/command-observer.js';
import { toProblem } from '../../shared/http/problem-mapper.js';
import { ProjectionObserver, type ProjectionObservation } from '../application/projection-observer.js';
import { StoreProbes, type ProbedStore } from '../application/store-probes.js';

/** Seconds; from 0.5 ms (a cached add-item) to 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Seconds from an event's append to its application in a read model: from 1 ms to 5 min, with the default
 * budgets (1 s and 5 s) among the bounds, so that `le="<budget>"` counts the applications within budget.
 */
export const FRESHNESS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** Label value of a request that matched no route: raw URLs never become label values. */
export const UNMATCHED_ROUTE = '(unmatched)';

let processRegistry: Registry | null = null;

/**
 * Node's process metrics (CPU, memory, event-loop lag, GC, handles), collected once per process: their
 * collectors (an event-loop delay monitor, a GC observer) cannot be stopped, so several apps in one process
 * (tests) share them.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Outcome label of a command: `ok`, `replayed`, `conflict_retried` (appended after losing at least one race),
 * `rejected_<status>` (a rule, a precondition or a conflict answered with that 4xx status) or `failed`.
 */
export function commandOutcome(report: CommandReport): string {
  if (report.error !== undefined) {
    const { body } = toProblem(report.error);
    return body.status < 500 ? `rejected_${body.status}` : 'failed';
  }
  if (report.replayed) return 'replayed';
  return report.conflicts > 0 ? 'conflict_retried' : 'ok';
}

/**
 * Every metric of the service, in a registry of its own (plus the process metrics): the write path reports
 * each command through CommandTelemetry (a few in-memory increments, nothing else), the HTTP layer
 * each response, and projection state is read from {@link ProjectionObserver} only when scraped.
 * Label values come from fixed sets (command names, outcomes, route patterns, status codes, projection
 * names) — never ids, URLs or error messages.
 */
@Injectable()
export class AppMetrics {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');

  private readonly commandSeconds = new Histogram({
    name: 'ordertrail_command_duration_seconds',
    help: 'Command latency through the write path (lock wait included), by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly appends = new Counter({
    name: 'ordertrail_appends_total',
    help: 'Successful appends of a command to its stream, by aggregate category',
    labelNames: ['category'] as const,
    registers: [this.registry],
  });
  private readonly eventsAppended = new Counter({
    name: 'ordertrail_events_appended_total',
    help: 'Events appended by commands, by aggregate category',
    labelNames: ['category'] as const,
    registers: [this.registry],
  });
  private readonly conflicts = new Counter({
    name: 'ordertrail_concurrency_conflicts_total',
    help: 'Appends that lost an optimistic-concurrency race (re-decided, or answered 409/412)',
    labelNames: ['category'] as const,
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'ordertrail_idempotent_replays_total',
    help: 'Retried requests answered from the idempotency memory (nothing appended), by command',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });
  private readonly rejections = new Counter({
    name: 'ordertrail_command_rejections_total',
    help: 'Commands refused with a problem code (business rule, precondition, conflict), by command and code',
    labelNames: ['command', 'code'] as const,
    registers: [this.registry],
  });
  private readonly httpSeconds = new Histogram({
    name: 'ordertrail_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  /** Labelled children, cached: `labels()` hashes its arguments on every call. */
  private readonly commandChildren = new Map<string, Histogram.Internal<'command' | 'outcome'>>();
  private readonly httpChildren = new Map<string, Histogram.Internal<'method' | 'route' | 'status'>>();
  private readonly categoryChildren = new Map<
    string,
    { appends: Counter.Internal; events: Counter.Internal; conflicts: Counter.Internal }
  >();

  constructor(
    @Optional() private readonly projections?: ProjectionObserver,
    @Optional() freshness?: FreshnessMonitor,
    @Optional() stores?: StoreProbes,
  ) {
    this.registerProjectionMetrics();
    if (freshness) this.registerFreshnessMetrics(freshness);
    if (stores) this.registerStoreMetrics(stores);
  }

  /** The hot path: one histogram observation and a few counter increments, all in memory. */
  command(report: CommandReport, outcome: string): void {
    const key = `${report.command}\n${outcome}`;
    let child = this.commandChildren.get(key);
    if (!child) {
      child = this.commandSeconds.labels(report.command, outcome);
      this.commandChildren.set(key, child);
    }
    child.observe(report.seconds);
    if (report.appended > 0 || report.conflicts > 0) {
      let counters = this.categoryChildren.get(report.category);
      if (!counters) {
        counters = {
          appends: this.appends.labels(report.category),
          events: this.eventsAppended.labels(report.category),
          conflicts: this.conflicts.labels(report.category),
        };
        this.categoryChildren.set(report.category, counters);
      }
      if (report.appended > 0) {
        counters.appends.inc();
        counters.events.inc(report.appended);
      }
      if (report.conflicts > 0) counters.conflicts.inc(report.conflicts);
    }
    if (report.replayed) this.replays.inc({ command: report.command });
    if (outcome.startsWith('rejected_')) {
      const code = toProblem(report.error).body.code ?? 'UNKNOWN';
      this.rejections.inc({ command: report.command, code });
    }
  }

  /** One finished HTTP request (`route` is the pattern the router matched, or {@link UNMATCHED_ROUTE}). */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let child = this.httpChildren.get(key);
    if (!child) {
      child = this.httpSeconds.labels(method, route, String(status));
      this.httpChildren.set(key, child);
    }
    child.observe(seconds);
  }

  /** The Prometheus text exposition of every metric, process metrics included. */
  async exposition(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${process}`;
  }

  readonly contentType = this.registry.contentType;

  /**
   * Per projection: a histogram of the time from each event's append to its application (observed for every
   * event the live projections apply, never a rebuild's), a counter of the applications over budget, and the
   * budget itself. The children exist from the start (a counter at 0 is a fact, not a missing series).
   */
  private registerFreshnessMetrics(freshness: FreshnessMonitor): void {
    const histogram = new Histogram({
      name: 'ordertrail_projection_freshness_seconds',
      help: "Time from an event's append to its application in the read model (live projections, this process)",
      labelNames: ['projection'] as const,
      buckets: FRESHNESS_BUCKETS,
      registers: [this.registry],
    });
    const overBudget = new Counter({
      name: 'ordertrail_projection_freshness_over_budget_total',
      help: 'Events applied later than the projection’s freshness budget after their append (this process)',
      labelNames: ['projection'] as const,
      registers: [this.registry],
    });
    const budget = new Gauge({
      name: 'ordertrail_projection_freshness_budget_seconds',
      help: 'Freshness budget of the projection (declared with it, or FRESHNESS_BUDGETS)',
      labelNames: ['projection'] as const,
      registers: [this.registry],
    });
    const children = new Map<string, { seconds: Histogram.Internal<'projection'>; over: Counter.Internal }>();
    for (const [name, ms] of freshness.budgets) {
      histogram.zero({ projection: name });
      overBudget.inc({ projection: name }, 0);
      children.set(name, { seconds: histogram.labels(name), over: overBudget.labels(name) });
      budget.set({ projection: name }, ms / 1000);
    }
    // The hot path: one observation (and maybe an increment) per applied event, in memory.
    freshness.onApplied((projection, ms, budgetMs) => {
      const child = children.get(projection);
      if (!child) return;
      child.seconds.observe(ms / 1000);
      if (ms > budgetMs) child.over.inc();
    });
  }

  /**
   * `ordertrail_store_up{store}`: 1 when the store answered a real read within the probe timeout at this
   * scrape (the same read as `/health/ready`), else 0 — what the StoreDown alerts watch.
   */
  private registerStoreMetrics(stores: StoreProbes): void {
    const labels: Record<ProbedStore, string> = { eventStore: 'event_store', readStore: 'read_store' };
    new Gauge({
      name: 'ordertrail_store_up',
      help: '1 when the store answered a read within 2 s at this scrape (event_store, read_store), else 0',
      labelNames: ['store'] as const,
      registers: [this.registry],
      async collect() {
        const probed = Object.keys(labels) as ProbedStore[];
        const up = await Promise.all(probed.map((store) => stores.up(store)));
        probed.forEach((store, i) => this.set({ store: labels[store] }, up[i] ? 1 : 0));
      },
    });
  }

  private registerProjectionMetrics(): void {
    const projections = this.projections;
    if (!projections) return;
    // One observation per scrape, shared by every projection metric below.
    let pending: Promise<readonly ProjectionObservation[]> | null = null;
    const observe = (): Promise<readonly ProjectionObservation[]> => {
      pending ??= projections
        .observe()
        .catch((error: unknown) => {
          this.logger.warn(`projection state unavailable for metrics: ${String(error)}`);
          return [];
        })
        .finally(() => setImmediate(() => (pending = null)));
      return pending;
    };
    const gauge = (
      name: string,
      help: string,
      value: (o: ProjectionObservation) => number | null,
    ): Gauge<'projection'> =>
      new Gauge({
        name,
        help,
        labelNames: ['projection'] as const,
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const o of await observe()) {
            const v = value(o);
            if (v !== null) this.set({ projection: o.name }, v);
          }
        },
      });
    gauge(
      'ordertrail_projection_lag_events',
      'Matching events not yet applied by the projection',
      (o) => o.lagEvents,
    );
    gauge(
      'ordertrail_projection_lag_seconds',
      'Age of the oldest event the projection has not applied',
      (o) => o.lagSeconds,
    );
    gauge(
      'ordertrail_projection_parked_events',
      'Events parked for an operator, by projection',
      (o) => o.parked,
    );
    gauge('ordertrail_projection_healthy', '1 when the projection makes progress (heartbeat), else 0', (o) =>
      o.healthy ? 1 : 0,
    );
    gauge(
      'ordertrail_projection_rebuild_events_done',
      'Events done by the running rebuild',
      (o) => o.rebuild?.done ?? null,
    );
    gauge(
      'ordertrail_projection_rebuild_events_total',
      'Events the running rebuild has to do',
      (o) => o.rebuild?.total ?? null,
    );
    gauge('ordertrail_projection_rebuild_progress_ratio', 'Progress of the running rebuild, 0..1', (o) =>
      o.rebuild && o.rebuild.total ? Math.min(1, o.rebuild.done / o.rebuild.total) : null,
    );
    new Gauge({
      name: 'ordertrail_projection_status',
      help: '1 for the status the projection is in (running, paused, rebuilding, faulted, stalled)',
      labelNames: ['projection', 'status'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const o of await observe()) this.set({ projection: o.name, status: o.status }, 1);
      },
    });
    gauge(
      'ordertrail_projection_degraded',
      '1 while the consistency sampler knows documents of the projection that differ from their streams, else 0',
      (o) => (o.consistency ? (o.consistency.degraded ? 1 : 0) : null),
    );
    // Counters fed from monotonic sources of this process, read when scraped.
    const monotonic = (
      name: string,
      help: string,
      value: (o: ProjectionObservation) => number | null,
    ): Counter<'projection'> => {
      const seen = new Map<string, number>();
      return new Counter({
        name,
        help,
        labelNames: ['projection'] as const,
        registers: [this.registry],
        async collect() {
          for (const o of await observe()) {
            const now = value(o);
            if (now === null) continue;
            const before = seen.get(o.name) ?? 0;
            // The source is monotonic; if it ever restarts from 0, so does the counter.
            if (now < before) this.remove({ projection: o.name });
            const delta = now - (now < before ? 0 : before);
            if (delta > 0 || !seen.has(o.name)) this.inc({ projection: o.name }, delta);
            seen.set(o.name, now);
          }
        },
      });
    };
    monotonic(
      'ordertrail_projection_events_applied_total',
      'Events applied to read models by this process, by projection (throughput: rate() of it)',
      (o) => o.eventsApplied,
    );
    monotonic(
      'ordertrail_projection_consistency_samples_total',
      'Documents the consistency sampler compared with a fold of their stream (this process)',
      (o) => o.consistency?.samples ?? null,
    );
    monotonic(
      'ordertrail_projection_drift_total',
      'Documents the consistency sampler found to differ from a fold of their stream (this process)',
      (o) => o.consistency?.driftFound ?? null,
    );
  }
}
