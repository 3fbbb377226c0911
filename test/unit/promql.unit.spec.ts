import { evaluate, metricNames, parse, parseExposition, SeriesStore } from '../support/promql.js';

/** Scrapes at t = 0, 10, 20… seconds, each a list of `name{labels} value` lines. */
function store(...scrapes: string[]): SeriesStore {
  const s = new SeriesStore();
  scrapes.forEach((text, i) => s.add(i * 10, parseExposition(text).samples));
  return s;
}

describe('the drill’s PromQL evaluator', () => {
  it('rate() is the increase over the window per second, across a counter reset; sum by groups', () => {
    const s = store(
      'c_total{p="a"} 0\nc_total{p="b"} 5',
      'c_total{p="a"} 10\nc_total{p="b"} 5',
      'c_total{p="a"} 30\nc_total{p="b"} 2', // b restarted
    );
    const at = (expr: string, t = 20) =>
      evaluate(parse(expr), s, t)
        .map((e) => `${JSON.stringify(e.labels)} ${e.value}`)
        .sort();
    expect(at('rate(c_total[1m])')).toEqual(['{"p":"a"} 1.5', '{"p":"b"} 0.1']);
    expect(at('sum by (p) (rate(c_total{p="a"}[15s]))')).toEqual(['{"p":"a"} 2']);
    expect(at('sum(rate(c_total[1m])) > 1')).toEqual(['{} 1.6']);
    expect(at('sum(rate(c_total[1m])) > 2')).toEqual([]);
    // One sample in the window: no rate.
    expect(at('rate(c_total[5s])')).toEqual([]);
    // A window scaled down (the drill's faster clock): [2m] covers 12 s.
    expect(evaluate(parse('rate(c_total{p="a"}[2m])'), s, 20, { rangeScale: 0.1 })[0]!.value).toBe(2);
  });

  it('comparisons filter, and/or/unless match on labels (on (…) narrows), 0/0 is NaN and never fires', () => {
    const s = store('lag{p="a"} 3\nlag{p="b"} 0.5\nbudget{p="a"} 1\nbudget{p="b"} 1\nzero 0');
    const names = (expr: string) => evaluate(parse(expr), s, 0).map((e) => e.labels.p ?? '-');
    expect(names('max by (p) (lag) > on (p) max by (p) (budget)')).toEqual(['a']);
    // Set operators match label sets without the metric name; on (…) narrows to the labels named.
    expect(names('lag > 1 and budget == 1')).toEqual(['a']);
    expect(names('lag > 1 and on (x) zero == 0')).toEqual(['a']);
    expect(names('lag > 1 and zero == 0')).toEqual([]);
    expect(names('lag > 1 and on (p) budget == 1')).toEqual(['a']);
    expect(names('lag > 1 or lag < 1')).toEqual(['a', 'b']);
    expect(names('lag unless on (p) lag > 1')).toEqual(['b']);
    expect(names('(zero / zero) > 0')).toEqual([]);
    expect(names('lag{p=~"a|c"} > (2 * 1)')).toEqual(['a']);
  });

  it('a series missing from a later scrape is stale at once (as Prometheus marks it)', () => {
    const s = store('up_ish{x="1"} 1', '');
    expect(evaluate(parse('up_ish == 1'), s, 5)).toHaveLength(1);
    expect(evaluate(parse('up_ish == 1'), s, 10)).toHaveLength(0);
  });

  it('refuses what it does not evaluate, and lists the metrics an expression names', () => {
    expect(() => parse('histogram_quantile(0.99, rate(x[5m]))')).toThrow(/not supported/);
    expect(() => parse('a > bool 1')).toThrow(/bool/);
    expect(() => parse('a / on (x) group_left b')).toThrow(/group_left/);
    expect(
      metricNames(
        parse('sum by (p) (rate(a_total[5m])) / sum by (p) (rate(b_count[5m])) > 0 or up{job="x"} == 0'),
      ),
    ).toEqual(['a_total', 'b_count', 'up']);
  });
});
