import { JwtService } from '@nestjs/jwt';
import {
  DEV_JWT_SECRET as SERVICE_DEV_SECRET,
  DEV_PAYMENT_WEBHOOK_SECRET as SERVICE_DEV_PAYMENT_SECRET,
} from '../../src/config/app-config.js';
import { helpText } from '../../src/operations/cli/cli.js';
import { invocation } from '../../src/operations/cli/command.js';
import {
  DEV_JWT_SECRET,
  DEV_PAYMENT_WEBHOOK_SECRET,
  signDevToken,
} from '../../src/operations/cli/dev-token.js';
import {
  ago,
  count,
  duration,
  painter,
  percent,
  progressLine,
  ProgressRenderer,
  table,
  type Output,
} from '../../src/operations/cli/format.js';

type Job = Parameters<typeof progressLine>[0];

const job = (over: Partial<Job> = {}): Job => ({
  kind: 'rebuild',
  projection: 'orders',
  state: 'running',
  phase: 'building',
  eventsDone: 1200,
  eventsTotal: 3000,
  progress: 0.4,
  rate: 5120,
  etaSeconds: 0.35,
  generation: 2,
  fromGeneration: 1,
  replacedGeneration: null,
  dropAt: null,
  ...over,
});

function recorder(isTTY: boolean): Output & { text: string } {
  const out = { text: '', isTTY, columns: 140, write: (chunk: string) => (out.text += chunk) };
  return out;
}

describe('operator CLI output', () => {
  it('tables align columns (numbers to the right), clip long free text and leave no trailing blanks', () => {
    const text = table(
      [
        { name: 'orders', lag: 12345, reason: 'short' },
        { name: 'order_timeline', lag: 0, reason: 'x'.repeat(30) },
      ],
      [
        { header: 'NAME', value: (r) => r.name },
        { header: 'LAG', value: (r) => count(r.lag), align: 'right' },
        { header: 'REASON', value: (r) => r.reason, max: 10 },
      ],
    );
    expect(text).toBe(
      [
        'NAME               LAG  REASON',
        'orders          12,345  short',
        'order_timeline       0  xxxxxxxxx…',
        '',
      ].join('\n'),
    );
  });

  it('formats counts, durations, ages and percentages for people', () => {
    expect([count(0), count(2.46), count(1234567.8)]).toEqual(['0', '2.5', '1,234,568']);
    expect([duration(0), duration(850), duration(12_340), duration(125_000), duration(7_500_000)]).toEqual([
      '0 ms',
      '850 ms',
      '12.3 s',
      '2 min 5 s',
      '2 h 5 min',
    ]);
    expect(ago(null)).toBe('-');
    expect(ago('2026-01-01T00:00:01.500Z', Date.parse('2026-01-01T00:00:03Z'))).toBe('1.5 s ago');
    // Never rounds up to 100 % before the end.
    expect([percent(0), percent(0.4567), percent(0.99999), percent(1), percent(1.2)]).toEqual([
      '0.0%',
      '45.6%',
      '99.9%',
      '100.0%',
      '100.0%',
    ]);
  });

  it('the progress line has the bar, percentage, done/total, rate, ETA and phase; narrow terminals drop the bar', () => {
    expect(progressLine(job(), { unicode: false, columns: 120 })).toBe(
      'rebuild orders [############..................]  40.0%  1,200/3,000 events  5,120 ev/s  ETA <1 s  building',
    );
    expect(
      progressLine(job({ state: 'succeeded', phase: 'done', progress: 1, eventsDone: 3000 }), {
        unicode: true,
      }),
    ).toBe(`rebuild orders [${'█'.repeat(30)}] 100.0%  3,000/3,000 events  5,120 ev/s  succeeded`);
    expect(progressLine(job({ etaSeconds: null, rate: 0 }), { unicode: true, columns: 50 })).toBe(
      'rebuild orders   40.0%  1,200/3,000 events  ETA ?  building',
    );
  });

  it('switching and draining are phases of their own: no ETA, and the drop of the old generation counts down', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const built = { progress: 1, eventsDone: 3000, rate: 0, etaSeconds: 0 };
    const line = (over: Partial<Job>, at = now) =>
      progressLine(job({ ...built, ...over }), { unicode: false, columns: 160, now: at });
    expect(line({ phase: 'switching' })).toBe(
      `rebuild orders [${'#'.repeat(30)}] 100.0%  3,000/3,000 events  switching to generation 2  switching`,
    );
    const draining = {
      phase: 'draining' as const,
      replacedGeneration: 1,
      dropAt: '2026-01-01T00:00:04.210Z',
    };
    expect(line(draining)).toBe(
      `rebuild orders [${'#'.repeat(30)}] 100.0%  3,000/3,000 events  ` +
        'dropping generation 1 in 4.3 s  draining',
    );
    expect(line(draining, now + 3000)).toContain('dropping generation 1 in 1.3 s  draining');
    expect(line(draining, now + 5000)).toContain('dropping generation 1 now  draining');
    for (const phase of ['switching', 'draining', 'comparing'] as const) {
      expect(line({ ...draining, phase })).not.toContain('ETA');
    }
  });

  it('on a terminal the renderer redraws one line in place and ends it with a newline', () => {
    const out = recorder(true);
    const renderer = new ProgressRenderer(out);
    renderer.update(job({ progress: 0.1 }));
    renderer.update(job({ progress: 0.5 }));
    renderer.finish(job({ state: 'succeeded', progress: 1, phase: 'done' }));
    const frames = out.text.split('\r').slice(1);
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^rebuild orders \[█{3}░{27}\]\s+10\.0% .*building/);
    const ERASE = '\x1b[K';
    expect(frames.map((frame) => frame.endsWith(ERASE))).toEqual([true, true, false]);
    expect(frames[2]!.endsWith(`succeeded${ERASE}\n`)).toBe(true);
    expect(frames[1]).toContain(' 50.0% ');
    expect(frames[2]).toMatch(/100\.0% .*succeeded/);

    const interrupted = recorder(true);
    const second = new ProgressRenderer(interrupted);
    second.update(job());
    second.interrupt();
    expect(interrupted.text.endsWith('\x1b[K\n')).toBe(true);
  });

  it('off a terminal it prints plain lines: on every 10 points, phase or state change, every 5 s, and the end', () => {
    let now = 0;
    const out = recorder(false);
    const renderer = new ProgressRenderer(out, { now: () => now });
    for (const progress of [0, 0.02, 0.05, 0.11, 0.12, 0.25]) renderer.update(job({ progress }));
    now = 6000;
    renderer.update(job({ progress: 0.26 }));
    renderer.update(job({ progress: 0.27 }));
    renderer.update(job({ progress: 1, phase: 'draining' }));
    renderer.finish(job({ progress: 1, state: 'succeeded', phase: 'done' }));
    expect(out.text).not.toContain('\r');
    expect(out.text).not.toContain('\x1b');
    expect(
      out.text
        .trimEnd()
        .split('\n')
        .map((line) => /(\d+\.\d)%.* {2}(\w+)$/.exec(line)!.slice(1).join(' ')),
    ).toEqual([
      '0.0 building',
      '11.0 building',
      '25.0 building',
      '26.0 building',
      '100.0 draining',
      '100.0 succeeded',
    ]);
  });

  it('colours only a terminal, and never with NO_COLOR', () => {
    expect(painter({ isTTY: true, write: () => true }, {})('running', 'green')).toBe(
      '\x1b[32mrunning\x1b[0m',
    );
    expect(painter({ isTTY: true, write: () => true }, { NO_COLOR: '1' })('running', 'green')).toBe(
      'running',
    );
    expect(painter({ isTTY: false, write: () => true }, {})('running', 'green')).toBe('running');
  });

  it('help names every exit code', () => {
    expect(helpText()).toMatch(
      /exit codes: 0 ok, 1 the service reported a failure, 2 usage error, 3 the service cannot be reached,\n\s+4 verify found drift/,
    );
  });
});

describe('operator CLI hints', () => {
  it('name the command as it was started: ordertrail-ops when run as that, else npm run -s ops --', () => {
    expect(invocation('/usr/local/bin/ordertrail-ops')).toBe('ordertrail-ops');
    expect(invocation('/srv/app/node_modules/.bin/ordertrail-ops')).toBe('ordertrail-ops');
    // `npm run -s ops` and `node dist/operations/cli/main.js`: ordertrail-ops is not on the PATH.
    expect(invocation('/srv/app/dist/operations/cli/main.js')).toBe('npm run -s ops --');
  });
});

describe('operator CLI dev tokens', () => {
  it('uses the same public development secrets as the service', () => {
    expect(DEV_JWT_SECRET).toBe(SERVICE_DEV_SECRET);
    expect(DEV_PAYMENT_WEBHOOK_SECRET).toBe(SERVICE_DEV_PAYMENT_SECRET);
  });

  it('signs HS256 tokens with sub, roles, iat and exp that the service verifies', () => {
    const token = signDevToken(
      { sub: 'ops', roles: ['operator'], ttlSeconds: 3600 },
      'a-secret-of-enough-length',
      Date.UTC(2026, 0, 1),
    );
    const claims = new JwtService({ secret: 'a-secret-of-enough-length' }).verify(token, {
      algorithms: ['HS256'],
      clockTimestamp: Date.UTC(2026, 0, 1) / 1000 + 10,
    });
    expect(claims).toEqual({
      sub: 'ops',
      roles: ['operator'],
      iat: Date.UTC(2026, 0, 1) / 1000,
      exp: Date.UTC(2026, 0, 1) / 1000 + 3600,
    });
  });
});
