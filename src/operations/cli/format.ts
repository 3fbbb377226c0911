/**
 * Text output of the operator CLI: aligned tables, human numbers and durations, the job progress line and
 * its renderer (a redrawn line on a terminal, plain lines in a log). No I/O beyond the streams given.
 */
import type { JobView } from '../application/admin-views.js';

/** What the renderers write to: process.stdout / process.stderr, or a test double. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Numbers read best right-aligned. */
  readonly align?: 'left' | 'right';
  /** Longer values are cut with `…` (free text such as a parked event's reason). */
  readonly max?: number;
}

/** Columns separated by two spaces, headers in capitals; the last column is not padded. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => clip(column.value(row), column.max)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => width(line[i] ?? ''))),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((value, i) => {
        const last = i === values.length - 1;
        const pad = ' '.repeat(Math.max(0, widths[i]! - width(value)));
        if (columns[i]?.align === 'right') return pad + value;
        return last ? value : value + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key: value` lines with the keys aligned. */
export function details(pairs: readonly (readonly [string, string])[]): string {
  const keyWidth = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${`${key}:`.padEnd(keyWidth + 1)} ${value}`).join('\n') + '\n';
}

function clip(value: string, max: number | undefined): string {
  const oneLine = value.replace(/\s+/g, ' ');
  return max !== undefined && oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** Printed width (ANSI colour codes take none). */
function width(text: string): number {
  return text.replace(ANSI, '').length;
}

/** 1234567 → `1,234,567`; fractions below 10 keep one decimal (`2.5`). */
export function count(value: number): string {
  const rounded =
    Math.abs(value) < 10 && !Number.isInteger(value) ? Math.round(value * 10) / 10 : Math.round(value);
  return rounded.toLocaleString('en-US');
}

/** 850 → `850 ms`, 12_300 → `12.3 s`, 125_000 → `2 min 5 s`, 7_500_000 → `2 h 5 min`. */
/** An amount of minor units in its currency's major unit: 4270 EUR → `42.70 EUR`, 500 JPY → `500 JPY`. */
export function money(minorUnits: number, currency: string): string {
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
  } catch {
    // An unknown code: two decimals, as most currencies have.
  }
  return `${(minorUnits / 10 ** digits).toFixed(digits)} ${currency}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.round(ms / 100) / 10).toString()} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** How long ago an ISO instant was (`1.2 s ago`); `-` for none. */
export function ago(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return '-';
  const then = Date.parse(iso);
  return Number.isNaN(then) ? iso : `${duration(Math.max(0, now - then))} ago`;
}

/** `0.4567` → `45.7%`; a finished job shows exactly `100.0%`. */
export function percent(progress: number): string {
  return `${(Math.floor(Math.min(1, Math.max(0, progress)) * 1000) / 10).toFixed(1)}%`;
}

const colours = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2 } as const;
export type Colour = keyof typeof colours;

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function painter(out: Output, env: NodeJS.ProcessEnv): (text: string, colour: Colour) => string {
  const enabled = out.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
  return (text, colour) => (enabled ? `\x1b[${colours[colour]}m${text}\x1b[0m` : text);
}

export function statusColour(status: string): Colour {
  if (status === 'running' || status === 'succeeded') return 'green';
  if (status === 'faulted' || status === 'stalled' || status === 'failed') return 'red';
  if (status === 'rebuilding') return 'cyan';
  return 'yellow';
}

/** A bar of `size` cells: `█` done and `░` to do on a terminal, `#` and `.` in plain text. */
export function bar(progress: number, size: number, unicode: boolean): string {
  const done = Math.round(Math.min(1, Math.max(0, progress)) * size);
  const [full, empty] = unicode ? ['█', '░'] : ['#', '.'];
  return full.repeat(done) + empty.repeat(size - done);
}

/** Seconds left → `?` (unknown), `<1 s`, `12.3 s`, `2 min 5 s`. */
export function eta(seconds: number | null): string {
  if (seconds === null) return '?';
  return seconds < 1 ? '<1 s' : duration(seconds * 1000);
}

type JobProgress = Pick<
  JobView,
  | 'kind'
  | 'projection'
  | 'state'
  | 'phase'
  | 'eventsDone'
  | 'eventsTotal'
  | 'progress'
  | 'rate'
  | 'etaSeconds'
  | 'generation'
  | 'fromGeneration'
  | 'replacedGeneration'
  | 'dropAt'
>;

/**
 * What a running job is doing, by phase: an ETA only while it builds (the one phase whose length depends on
 * the events); the switch as it is; the grace period before the old generation is dropped as a countdown to
 * `dropAt`, never an estimate.
 */
function phaseParts(job: JobProgress, now: number): string[] {
  switch (job.phase) {
    case 'building':
      return [`ETA ${eta(job.etaSeconds)}`, 'building'];
    case 'switching':
      return [`switching to generation ${job.generation}`, 'switching'];
    case 'draining': {
      const old = job.replacedGeneration ?? job.fromGeneration;
      const left = job.dropAt === null ? null : Date.parse(job.dropAt) - now;
      const when = left === null ? 'soon' : left > 0 ? `in ${duration(Math.ceil(left / 100) * 100)}` : 'now';
      return [`dropping generation ${old} ${when}`, 'draining'];
    }
    default:
      return [job.phase];
  }
}

/**
 * `rebuild orders [########............]  40.0%  1,200/3,000 events  5,120 ev/s  ETA 0.4 s  building`, then
 * `… 100.0%  3,000/3,000 events  dropping generation 1 in 4.2 s  draining` (generation 2 is live) — the bar
 * shrinks on narrow terminals and is left out below 60 columns; off a terminal it keeps its 30 cells.
 */
export function progressLine(
  job: JobProgress,
  options: { unicode: boolean; columns?: number; now?: number },
): string {
  const progress = job.state === 'succeeded' ? 1 : job.progress;
  const parts = [
    percent(progress).padStart(6),
    `${count(job.eventsDone)}/${count(job.eventsTotal)} events`,
    job.rate > 0 ? `${count(job.rate)} ev/s` : null,
    ...(job.state === 'running' ? phaseParts(job, options.now ?? Date.now()) : [job.state]),
  ].filter((part): part is string => part !== null);
  const head = `${job.kind} ${job.projection}`;
  const text = parts.join('  ');
  // Without a terminal (a pipe, a log) there is no width to fit: the bar keeps its 30 cells.
  const room = options.columns === undefined ? 30 : options.columns - head.length - text.length - 5;
  const size = Math.min(30, room);
  return size >= 10 ? `${head} [${bar(progress, size, options.unicode)}] ${text}` : `${head}  ${text}`;
}

/**
 * Shows a job's progress while it runs. On a terminal: one line redrawn in place (`\r`, then erase to the
 * end of the line). Otherwise (a pipe, a CI log): a plain line when the phase or state changes, every 10
 * points of progress, and at least every `plainEveryMs` — never a carriage return.
 */
export class ProgressRenderer {
  private open = false;
  private lastPlain: { at: number; step: number; phase: string; state: string } | null = null;

  constructor(
    private readonly out: Output,
    private readonly options: { now?: () => number; plainEveryMs?: number } = {},
  ) {}

  update(job: JobProgress): void {
    const now = (this.options.now ?? Date.now)();
    if (this.out.isTTY) {
      this.out.write(`\r${progressLine(job, { unicode: true, columns: this.out.columns ?? 80, now })}\x1b[K`);
      this.open = true;
      return;
    }
    const step = Math.floor((job.state === 'succeeded' ? 1 : job.progress) * 10);
    const last = this.lastPlain;
    const due =
      last === null ||
      last.phase !== job.phase ||
      last.state !== job.state ||
      step > last.step ||
      now - last.at >= (this.options.plainEveryMs ?? 5000);
    if (!due) return;
    this.out.write(`${progressLine(job, { unicode: false, now })}\n`);
    this.lastPlain = { at: now, step, phase: job.phase, state: job.state };
  }

  /** The last state (always shown), and the end of the redrawn line. */
  finish(job: JobProgress): void {
    if (this.out.isTTY) {
      this.update(job);
      this.out.write('\n');
      this.open = false;
      return;
    }
    this.lastPlain = null;
    this.update(job);
  }

  /** Ends a redrawn line so that what follows starts on a line of its own. */
  interrupt(): void {
    if (this.open) this.out.write('\n');
    this.open = false;
  }
}
