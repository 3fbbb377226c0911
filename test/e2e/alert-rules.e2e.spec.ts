import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { ALERTS_FILE, readAlertRules, runbookCommands, runbookSection } from '../support/alert-rules.js';
import { metricNames, parse, parseExposition } from '../support/promql.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Made by Prometheus itself for every target, not by the service. */
const PROMETHEUS_OWN = new Set(['up']);

/** The sample names a metric family of the exposition stands for. */
function sampleNames(family: string, type: string): string[] {
  if (type === 'histogram') return [`${family}_bucket`, `${family}_sum`, `${family}_count`];
  if (type === 'summary') return [family, `${family}_sum`, `${family}_count`];
  return [family];
}

describe('alert rules (deploy/prometheus/alerts.yml)', () => {
  const rules = readAlertRules();

  it('are all read: as many rules as the file has alert: lines, each with an expression, a severity and its runbook link', () => {
    const declared = readFileSync(ALERTS_FILE, 'utf8').match(/^\s*- alert: /gm) ?? [];
    expect(rules).toHaveLength(declared.length);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'FreshnessBudgetBurnFast',
        'FreshnessBudgetBurnSlow',
        'ProjectionBehindBudget',
        'ProjectionStalledOrFaulted',
        'ProjectionParkedEvents',
        'ProjectionDrift',
        'HighServerErrorRate',
        'EventStoreDown',
        'ReadStoreDown',
      ]),
    );
    for (const rule of rules) {
      expect([rule.alert, rule.labels.severity]).toEqual([
        rule.alert,
        expect.stringMatching(/^(page|ticket)$/),
      ]);
      expect(rule.runbookUrl).toBe(`docs/runbook.md#${rule.alert.toLowerCase()}`);
    }
  });

  it('each has a runbook section: what it means, what to check first, how to fix, how to confirm recovery, and commands', () => {
    for (const { alert } of rules) {
      const section = runbookSection(alert);
      expect([alert, section !== null]).toEqual([alert, true]);
      for (const part of ['**What it means.**', '**Check first.**', '**Fix.**', '**Confirm recovery.**']) {
        expect([alert, part, section!.includes(part)]).toEqual([alert, part, true]);
      }
      // Commands that exist: the operator CLI, or curl against the service.
      for (const command of runbookCommands(alert)) {
        expect([alert, command]).toEqual([
          alert,
          expect.stringMatching(/^(npm run -s ops -- |curl |export )/),
        ]);
      }
    }
  });

  it('parse as PromQL with the Prometheus project’s own grammar (its published parser, as its web UI uses)', () => {
    /** Where the grammar found no way on: positions of the error nodes of the parse tree. */
    const syntaxErrors = (expr: string): number[] => {
      const at: number[] = [];
      promqlParser.parse(expr).iterate({
        enter: (node) => {
          if (node.type.isError) at.push(node.from);
        },
      });
      return at;
    };
    // The check can fail: a broken expression is found.
    expect(syntaxErrors('sum(rate(ordertrail_http_requests_total[5m]) >')).not.toEqual([]);
    for (const rule of rules) expect([rule.alert, syntaxErrors(rule.expr)]).toEqual([rule.alert, []]);
  });

  it('use only the PromQL the drill can evaluate', () => {
    for (const rule of rules) expect(() => parse(rule.expr)).not.toThrow();
  });

  describe('every metric an expression names is exported by /metrics', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    }, 30_000);
    afterAll(async () => {
      await t?.close();
    });

    it('(names parsed out of the expressions; families read from the exposition’s # TYPE lines)', async () => {
      // A request, so that the HTTP histogram has a series (a family is declared either way).
      await t.http.get(`/carts/${randomUUID()}`).set('authorization', t.bearer('s', 'shopper'));
      const res = await t.http.get('/metrics').set('authorization', t.bearer('ops', 'operator')).expect(200);
      const { types } = parseExposition(res.text);
      const exported = new Set([...types].flatMap(([family, type]) => sampleNames(family, type)));

      const named = new Set(rules.flatMap((rule) => metricNames(parse(rule.expr))));
      expect(named.size).toBeGreaterThan(8);
      const missing = [...named].filter((name) => !exported.has(name) && !PROMETHEUS_OWN.has(name));
      expect(missing).toEqual([]);
    });
  });
});
