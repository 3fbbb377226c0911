/**
 * A small PromQL evaluator for the subset deploy/prometheus/alerts.yml uses, over series scraped from the
 * service's /metrics (the drill, test/e2e/runbook-drill.e2e.spec.ts), and the parser the alert-rules test uses
 * to list the metrics an expression names.
 *
 * The subset: vector selectors with label matchers (`=`, `!=`, `=~`, `!~`), range selectors with `rate()` and
 * `increase()`, `sum`/`max`/`min`/`count` with `by (…)`, number literals, the arithmetic operators
 * (`+ - * /`), the filtering comparisons (`> < >= <= == !=`) and `and`/`or`/`unless`, with `on (…)` and
 * `ignoring (…)`, in PromQL's precedence. Anything else is refused by the parser (a rule using it fails the
 * test rather than being evaluated wrongly).
 *
 * What differs from Prometheus, deliberately and visibly:
 * - `rate()` is the increase between the first and last samples of the window (counter resets corrected)
 *   divided by the time between them; Prometheus also extrapolates to the window's edges. `increase()` is that
 *   rate times the window.
 * - An instant selector takes a series' newest sample at or before the evaluation time, unless the scrape that
 *   followed it no longer had the series (Prometheus's staleness marker) or it is older than the lookback.
 * - Range windows may be scaled (`rangeScale`) so a drill that lasts seconds can see a one-hour window fill and
 *   empty: the expression is the rule's, the clock is faster. `for:` is not evaluated (it only delays firing).
 */

export type Labels = Readonly<Record<string, string>>;

interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

type VectorMatching = { readonly on: boolean; readonly labels: readonly string[] } | null;

export type Node =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'selector'; readonly name: string | null; readonly matchers: readonly Matcher[] }
  | { readonly kind: 'range'; readonly selector: Node & { kind: 'selector' }; readonly seconds: number }
  | { readonly kind: 'call'; readonly fn: 'rate' | 'increase'; readonly arg: Node }
  | {
      readonly kind: 'aggregate';
      readonly op: 'sum' | 'max' | 'min' | 'count';
      readonly by: readonly string[] | null;
      readonly arg: Node;
    }
  | {
      readonly kind: 'binary';
      readonly op: string;
      readonly left: Node;
      readonly right: Node;
      readonly matching: VectorMatching;
    };

// ---------------------------------------------------------------------------------------------- parsing

type Token = { readonly type: 'num' | 'id' | 'str' | 'dur' | 'op' | 'punct'; readonly text: string };

const DURATION = /^(\d+)(ms|s|m|h|d|w|y)/;
const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
  y: 31_536_000,
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (rest.startsWith('#')) {
      i += rest.indexOf('\n') < 0 ? rest.length : rest.indexOf('\n');
      continue;
    }
    // A duration only inside [ ]: the previous token is `[`.
    if (tokens.at(-1)?.text === '[') {
      const duration = /^(\d+(ms|s|m|h|d|w|y))+/.exec(rest);
      if (!duration) throw new Error(`a duration expected at "${rest.slice(0, 20)}"`);
      tokens.push({ type: 'dur', text: duration[0] });
      i += duration[0].length;
      continue;
    }
    const number = /^(\d+\.?\d*(e[+-]?\d+)?|\.\d+)/i.exec(rest);
    if (number) {
      tokens.push({ type: 'num', text: number[0] });
      i += number[0].length;
      continue;
    }
    const id = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest);
    if (id) {
      tokens.push({ type: 'id', text: id[0] });
      i += id[0].length;
      continue;
    }
    const str = /^"((?:[^"\\]|\\.)*)"/.exec(rest) ?? /^'((?:[^'\\]|\\.)*)'/.exec(rest);
    if (str) {
      tokens.push({ type: 'str', text: str[1]!.replace(/\\(.)/g, '$1') });
      i += str[0].length;
      continue;
    }
    const op = /^(==|!=|>=|<=|=~|!~|[-+*/%^><=])/.exec(rest);
    if (op) {
      tokens.push({ type: 'op', text: op[0] });
      i += op[0].length;
      continue;
    }
    if ('(){}[],'.includes(rest[0]!)) {
      tokens.push({ type: 'punct', text: rest[0]! });
      i += 1;
      continue;
    }
    throw new Error(`unexpected "${rest.slice(0, 20)}"`);
  }
  return tokens;
}

function durationSeconds(text: string): number {
  let seconds = 0;
  let rest = text;
  while (rest.length > 0) {
    const part = DURATION.exec(rest)!;
    seconds += Number(part[1]) * UNIT_SECONDS[part[2]!]!;
    rest = rest.slice(part[0].length);
  }
  return seconds;
}

/** Binary operators by precedence, lowest first (PromQL's; `^` is not supported). */
const PRECEDENCE: readonly (readonly string[])[] = [
  ['or'],
  ['and', 'unless'],
  ['==', '!=', '<=', '<', '>=', '>'],
  ['+', '-'],
  ['*', '/', '%'],
];
const AGGREGATES = new Set(['sum', 'max', 'min', 'count']);
const FUNCTIONS = new Set(['rate', 'increase']);

/** Parses an expression of the supported subset; throws naming what it does not support. */
export function parse(expression: string): Node {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const take = (): Token => {
    const token = tokens[at++];
    if (!token) throw new Error('unexpected end of expression');
    return token;
  };
  const expect = (text: string): void => {
    const token = take();
    if (token.text !== text) throw new Error(`"${text}" expected, got "${token.text}"`);
  };
  const labelList = (): string[] => {
    expect('(');
    const labels: string[] = [];
    while (peek()?.text !== ')') {
      const token = take();
      if (token.type !== 'id') throw new Error(`a label name expected, got "${token.text}"`);
      labels.push(token.text);
      if (peek()?.text === ',') take();
    }
    expect(')');
    return labels;
  };

  const binary = (level: number): Node => {
    if (level === PRECEDENCE.length) return unary();
    let left = binary(level + 1);
    for (;;) {
      const token = peek();
      if (!token || !PRECEDENCE[level]!.includes(token.text) || !['op', 'id'].includes(token.type)) break;
      take();
      if (peek()?.text === 'bool') throw new Error('the bool modifier is not supported');
      let matching: VectorMatching = null;
      if (peek()?.text === 'on' || peek()?.text === 'ignoring') {
        const on = take().text === 'on';
        matching = { on, labels: labelList() };
      }
      if (peek()?.text === 'group_left' || peek()?.text === 'group_right') {
        throw new Error('group_left/group_right are not supported');
      }
      const right = binary(level + 1);
      left = { kind: 'binary', op: token.text, left, right, matching };
    }
    return left;
  };

  const unary = (): Node => {
    const token = take();
    if (token.type === 'num') return { kind: 'number', value: Number(token.text) };
    if (token.text === '(') {
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (token.type === 'op' && token.text === '-') {
      return {
        kind: 'binary',
        op: '*',
        left: { kind: 'number', value: -1 },
        right: unary(),
        matching: null,
      };
    }
    if (
      token.type === 'id' &&
      AGGREGATES.has(token.text) &&
      ['(', 'by', 'without'].includes(peek()?.text ?? '')
    ) {
      let by: string[] | null = null;
      if (peek()?.text === 'without') throw new Error('without (…) is not supported');
      if (peek()?.text === 'by') {
        take();
        by = labelList();
      }
      expect('(');
      const arg = binary(0);
      expect(')');
      if (peek()?.text === 'by') {
        take();
        by = labelList();
      }
      return { kind: 'aggregate', op: token.text as 'sum', by, arg };
    }
    if (token.type === 'id' && FUNCTIONS.has(token.text) && peek()?.text === '(') {
      take();
      const arg = unary();
      expect(')');
      if (arg.kind !== 'range') throw new Error(`${token.text}() needs a range selector`);
      return { kind: 'call', fn: token.text as 'rate', arg };
    }
    if (token.type === 'id' && peek()?.text === '(') {
      throw new Error(`function or aggregation ${token.text}() is not supported`);
    }
    if (token.type === 'id' || token.text === '{') {
      if (token.text === '{') at -= 1;
      const name = token.type === 'id' ? token.text : null;
      const matchers: Matcher[] = [];
      if (peek()?.text === '{') {
        take();
        while (peek()?.text !== '}') {
          const label = take();
          const op = take();
          const value = take();
          if (label.type !== 'id' || !['=', '!=', '=~', '!~'].includes(op.text) || value.type !== 'str') {
            throw new Error(`a label matcher expected at "${label.text}${op.text}${value.text}"`);
          }
          matchers.push({ label: label.text, op: op.text as Matcher['op'], value: value.text });
          if (peek()?.text === ',') take();
        }
        expect('}');
      }
      const selector = { kind: 'selector' as const, name, matchers };
      if (peek()?.text === '[') {
        take();
        const duration = take();
        if (duration.type !== 'dur') throw new Error('a duration expected');
        expect(']');
        return { kind: 'range', selector, seconds: durationSeconds(duration.text) };
      }
      return selector;
    }
    throw new Error(`unexpected "${token.text}"`);
  };

  const node = binary(0);
  if (at !== tokens.length) throw new Error(`unexpected "${tokens[at]!.text}" after the expression`);
  return node;
}

/** Every metric name an expression selects (sorted, once each). */
export function metricNames(node: Node): string[] {
  const names = new Set<string>();
  const walk = (n: Node): void => {
    if (n.kind === 'selector') {
      const name = n.name ?? n.matchers.find((m) => m.label === '__name__' && m.op === '=')?.value;
      if (name) names.add(name);
    } else if (n.kind === 'range') walk(n.selector);
    else if (n.kind === 'call' || n.kind === 'aggregate') walk(n.arg);
    else if (n.kind === 'binary') {
      walk(n.left);
      walk(n.right);
    }
  };
  walk(node);
  return [...names].sort();
}

// ------------------------------------------------------------------------------------------- scraped data

/** One sample of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Parses a Prometheus text exposition (0.0.4): samples, and the metric families its `# TYPE` lines declare. */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const pairs = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let pair = pairs.exec(match[3] ?? ''); pair; pair = pairs.exec(match[3] ?? '')) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    const raw = match[4]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return { samples, types };
}

interface Point {
  readonly t: number;
  /** null: a staleness marker (the series was missing from the scrape at t). */
  readonly v: number | null;
}

interface Series {
  readonly name: string;
  readonly labels: Labels;
  readonly points: Point[];
}

const seriesKey = (name: string, labels: Labels): string =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;

/** The series of every scrape so far, with staleness markers for series that disappear. */
export class SeriesStore {
  private readonly series = new Map<string, Series>();

  /** Adds one scrape taken at `t` (seconds); `extra` labels are added to every sample (`job`, `instance`). */
  add(t: number, samples: readonly Sample[], extra: Labels = {}): void {
    const seen = new Set<string>();
    for (const sample of samples) {
      const labels = { ...sample.labels, ...extra };
      const key = seriesKey(sample.name, labels);
      seen.add(key);
      let series = this.series.get(key);
      if (!series) {
        series = { name: sample.name, labels, points: [] };
        this.series.set(key, series);
      }
      series.points.push({ t, v: sample.value });
    }
    for (const [key, series] of this.series) {
      if (!seen.has(key) && series.points.at(-1)?.v !== null) series.points.push({ t, v: null });
    }
  }

  select(matchers: readonly Matcher[], name: string | null): Series[] {
    return [...this.series.values()].filter(
      (s) =>
        (name === null || s.name === name) &&
        matchers.every((m) => matches(m, m.label === '__name__' ? s.name : (s.labels[m.label] ?? ''))),
    );
  }
}

function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(value);
  }
}

// -------------------------------------------------------------------------------------------- evaluation

/** An element of an instant vector: its labels (no `__name__` once an operator or function applied). */
export interface Element {
  readonly labels: Labels;
  readonly value: number;
}

type Value = { kind: 'scalar'; value: number } | { kind: 'vector'; elements: Element[] };

export interface EvaluateOptions {
  /** Range windows are multiplied by this (e.g. 1/100: `[1h]` covers 36 s). Default 1. */
  readonly rangeScale?: number;
  /** How far back an instant selector looks for a sample, seconds (Prometheus: 5 minutes). */
  readonly lookbackSeconds?: number;
}

const withoutName = (labels: Labels): Labels => {
  const { __name__: _name, ...rest } = labels;
  return rest;
};

function signature(labels: Labels, matching: VectorMatching): string {
  const keys = Object.keys(labels)
    .filter((k) => k !== '__name__')
    .filter((k) =>
      matching === null ? true : matching.on ? matching.labels.includes(k) : !matching.labels.includes(k),
    )
    .sort();
  return keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');
}

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
};
const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
};

/** Evaluates `node` at time `t` (seconds) over the scraped series: the elements of the resulting vector. */
export function evaluate(
  node: Node,
  store: SeriesStore,
  t: number,
  options: EvaluateOptions = {},
): Element[] {
  const value = evaluateValue(node, store, t, {
    rangeScale: options.rangeScale ?? 1,
    lookbackSeconds: options.lookbackSeconds ?? 300,
  });
  return value.kind === 'vector' ? value.elements : [{ labels: {}, value: value.value }];
}

function evaluateValue(node: Node, store: SeriesStore, t: number, o: Required<EvaluateOptions>): Value {
  switch (node.kind) {
    case 'number':
      return { kind: 'scalar', value: node.value };
    case 'selector': {
      const elements: Element[] = [];
      for (const series of store.select(node.matchers, node.name)) {
        const latest = [...series.points].reverse().find((p) => p.t <= t);
        if (!latest || latest.v === null || t - latest.t > o.lookbackSeconds) continue;
        elements.push({ labels: { __name__: series.name, ...series.labels }, value: latest.v });
      }
      return { kind: 'vector', elements };
    }
    case 'range':
      throw new Error('a range selector must be the argument of rate() or increase()');
    case 'call': {
      const range = node.arg as Extract<Node, { kind: 'range' }>;
      const window = range.seconds * o.rangeScale;
      const elements: Element[] = [];
      for (const series of store.select(range.selector.matchers, range.selector.name)) {
        const points = series.points.filter((p) => p.v !== null && p.t > t - window && p.t <= t);
        if (points.length < 2) continue;
        let increase = 0;
        for (let i = 1; i < points.length; i++) {
          const [a, b] = [points[i - 1]!.v!, points[i]!.v!];
          increase += b >= a ? b - a : b; // a counter reset: it restarted from 0
        }
        const rate = increase / (points.at(-1)!.t - points[0]!.t);
        elements.push({
          labels: withoutName(series.labels),
          value: node.fn === 'rate' ? rate : rate * window,
        });
      }
      return { kind: 'vector', elements };
    }
    case 'aggregate': {
      const arg = evaluateValue(node.arg, store, t, o);
      if (arg.kind !== 'vector') throw new Error(`${node.op}() needs a vector`);
      const groups = new Map<string, { labels: Labels; values: number[] }>();
      for (const element of arg.elements) {
        const labels: Record<string, string> = {};
        for (const label of node.by ?? []) {
          if (element.labels[label] !== undefined) labels[label] = element.labels[label]!;
        }
        const key = signature(labels, null);
        const group = groups.get(key) ?? { labels, values: [] };
        group.values.push(element.value);
        groups.set(key, group);
      }
      const reduce = {
        sum: (v: number[]) => v.reduce((a, b) => a + b, 0),
        max: (v: number[]) => Math.max(...v),
        min: (v: number[]) => Math.min(...v),
        count: (v: number[]) => v.length,
      }[node.op];
      return {
        kind: 'vector',
        elements: [...groups.values()].map((g) => ({ labels: g.labels, value: reduce(g.values) })),
      };
    }
    case 'binary':
      return binaryValue(node, evaluateValue(node.left, store, t, o), evaluateValue(node.right, store, t, o));
  }
}

function binaryValue(node: Extract<Node, { kind: 'binary' }>, left: Value, right: Value): Value {
  const { op, matching } = node;
  if (op === 'and' || op === 'or' || op === 'unless') {
    if (left.kind !== 'vector' || right.kind !== 'vector') throw new Error(`${op} needs two vectors`);
    const rightSignatures = new Set(right.elements.map((e) => signature(e.labels, matching)));
    if (op === 'and') {
      return {
        kind: 'vector',
        elements: left.elements.filter((e) => rightSignatures.has(signature(e.labels, matching))),
      };
    }
    if (op === 'unless') {
      return {
        kind: 'vector',
        elements: left.elements.filter((e) => !rightSignatures.has(signature(e.labels, matching))),
      };
    }
    const leftSignatures = new Set(left.elements.map((e) => signature(e.labels, matching)));
    return {
      kind: 'vector',
      elements: [
        ...left.elements,
        ...right.elements.filter((e) => !leftSignatures.has(signature(e.labels, matching))),
      ],
    };
  }
  const compare = COMPARISONS[op];
  const arithmetic = ARITHMETIC[op];
  if (!compare && !arithmetic) throw new Error(`operator ${op} is not supported`);
  if (left.kind === 'scalar' && right.kind === 'scalar') {
    if (compare) throw new Error('a comparison between two scalars needs bool, which is not supported');
    return { kind: 'scalar', value: arithmetic!(left.value, right.value) };
  }
  // Vector and scalar: each element against the scalar. A comparison keeps the vector side's value.
  if (left.kind === 'scalar' || right.kind === 'scalar') {
    const vector = (left.kind === 'vector' ? left : right) as Extract<Value, { kind: 'vector' }>;
    const scalar = (left.kind === 'scalar' ? left : right) as Extract<Value, { kind: 'scalar' }>;
    const pair = (v: number): [number, number] =>
      left.kind === 'vector' ? [v, scalar.value] : [scalar.value, v];
    const elements: Element[] = [];
    for (const e of vector.elements) {
      const [a, b] = pair(e.value);
      if (compare) {
        if (compare(a, b)) elements.push(e);
      } else elements.push({ labels: withoutName(e.labels), value: arithmetic!(a, b) });
    }
    return { kind: 'vector', elements };
  }
  // Two vectors, one-to-one on their labels (all but the name, or those `on`/`ignoring` say).
  const rights = new Map<string, Element>();
  for (const e of right.elements) {
    const key = signature(e.labels, matching);
    if (rights.has(key)) throw new Error(`many-to-one matching on ${key} is not supported`);
    rights.set(key, e);
  }
  const elements: Element[] = [];
  for (const l of left.elements) {
    const r = rights.get(signature(l.labels, matching));
    if (!r) continue;
    if (compare) {
      if (compare(l.value, r.value)) elements.push(l);
    } else {
      const labels = withoutName(l.labels);
      const kept =
        matching === null
          ? labels
          : Object.fromEntries(
              Object.entries(labels).filter(([k]) => matching.labels.includes(k) === matching.on),
            );
      elements.push({ labels: kept, value: arithmetic!(l.value, r.value) });
    }
  }
  return { kind: 'vector', elements };
}
