import { ConfigError } from '../../config/app-config.js';
import type { AnyProjection } from './projection.js';

/**
 * Freshness of the read models: each projection's budget (declared with the projection, overridable by
 * FRESHNESS_BUDGETS) and what this process measured — the time from each event's append (its `created` time
 * in the store) to its application in the read model, observed for every event the live projections apply
 * (never a rebuild's). See docs/consistency.md#freshness-budgets.
 */

/**
 * The budget of every projection: its own, or the one FRESHNESS_BUDGETS gives. A name there that is no
 * projection's is a configuration error naming the variable (a typo would otherwise leave a budget unset).
 */
export function resolveFreshnessBudgets(
  projections: readonly AnyProjection[],
  overrides: Readonly<Record<string, number>>,
): ReadonlyMap<string, number> {
  const budgets = new Map(projections.map((p) => [p.name, p.freshnessBudgetMs]));
  const unknown = Object.keys(overrides).filter((name) => !budgets.has(name));
  if (unknown.length > 0) {
    const known = [...budgets.keys()].join(', ');
    throw new ConfigError(
      unknown.map((name) => `FRESHNESS_BUDGETS: ${name} is not a projection (the projections: ${known})`),
    );
  }
  for (const [name, ms] of Object.entries(overrides)) budgets.set(name, ms);
  return budgets;
}

/** Percentile by nearest rank (p in 0..100) of ascending values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** What `/admin/projections` shows of one projection's freshness. */
export interface FreshnessSummary {
  /** The budget in force (declared, or from FRESHNESS_BUDGETS). */
  readonly budgetMs: number;
  /** Median and 99th percentile of the window (null: no application in it). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Applications the percentiles are computed from. */
  readonly samples: number;
  /** The window: the last WINDOW_SAMPLES applications of the last WINDOW_MS. */
  readonly windowSeconds: number;
  /** Applications over budget observed by this process since it started. */
  readonly overBudget: number;
}

/** Told of every live application (the metrics): milliseconds from append to application, and the budget. */
export type FreshnessListener = (projection: string, freshnessMs: number, budgetMs: number) => void;

/** The window of `/admin/projections`' percentiles: at most this many applications… */
export const WINDOW_SAMPLES = 2048;
/** …of at most this long ago. */
export const WINDOW_MS = 5 * 60_000;

/** The last WINDOW_SAMPLES observations of one projection, with when they were made: a ring. */
class Window {
  private readonly values = new Float64Array(WINDOW_SAMPLES);
  private readonly at = new Float64Array(WINDOW_SAMPLES);
  private next = 0;
  private size = 0;
  overBudget = 0;

  add(value: number, now: number): void {
    this.values[this.next] = value;
    this.at[this.next] = now;
    this.next = (this.next + 1) % WINDOW_SAMPLES;
    if (this.size < WINDOW_SAMPLES) this.size++;
  }

  /** The values observed since `since`, ascending. */
  recent(since: number): number[] {
    const values: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.at[i]! >= since) values.push(this.values[i]!);
    return values.sort((a, b) => a - b);
  }
}

/**
 * This process's freshness measurements. The live projection runners report every event they apply (a
 * subtraction and a ring write per event: no I/O); `/admin/projections` reads percentiles of a bounded window
 * (the last 2,048 applications of the last five minutes, per projection); the metrics listen to every
 * observation (a histogram and an over-budget counter). Instance-local, like the rates: each instance
 * measures what it applies.
 */
export class FreshnessMonitor {
  private readonly windows = new Map<string, Window>();
  private readonly listeners: FreshnessListener[] = [];

  constructor(
    /** Budget of every projection, by name (resolveFreshnessBudgets). */
    readonly budgets: ReadonlyMap<string, number>,
    private readonly clock: () => number = Date.now,
  ) {
    for (const name of budgets.keys()) this.windows.set(name, new Window());
  }

  budgetMs(projection: string): number | undefined {
    return this.budgets.get(projection);
  }

  onApplied(listener: FreshnessListener): void {
    this.listeners.push(listener);
  }

  /**
   * Events of `projection` appended at `created` (epoch ms, the store's time) were applied at `appliedAt`. A
   * negative difference (the store's clock ahead of ours) counts as 0.
   */
  applied(projection: string, appliedAt: number, created: readonly number[]): void {
    const window = this.windows.get(projection);
    const budget = this.budgets.get(projection);
    if (!window || budget === undefined) return;
    for (const at of created) {
      const ms = Math.max(0, appliedAt - at);
      window.add(ms, appliedAt);
      if (ms > budget) window.overBudget++;
      for (const listener of this.listeners) listener(projection, ms, budget);
    }
  }

  /** p50/p99 of the window, the budget, and the over-budget count; null for a name that has no budget. */
  summary(projection: string): FreshnessSummary | null {
    const window = this.windows.get(projection);
    const budgetMs = this.budgets.get(projection);
    if (!window || budgetMs === undefined) return null;
    const recent = window.recent(this.clock() - WINDOW_MS);
    return {
      budgetMs,
      p50Ms: percentile(recent, 50),
      p99Ms: percentile(recent, 99),
      samples: recent.length,
      windowSeconds: WINDOW_MS / 1000,
      overBudget: window.overBudget,
    };
  }
}
