import { ConfigError, loadConfig } from '../../src/config/app-config.js';

describe('observability configuration', () => {
  const secret = {
    AUTH_JWT_SECRET: 'a-secret-of-sufficient-length',
    PAYMENT_WEBHOOK_SECRET: 'a-payment-webhook-secret-of-sufficient-length',
  };

  it('defaults: no static metrics token, rate limiting off', () => {
    expect(loadConfig(secret).observability).toEqual({ metricsToken: null, rateLimitPerMinute: 0 });
    expect(loadConfig({ ...secret, METRICS_TOKEN: '' }).observability.metricsToken).toBeNull();
  });

  it('reads METRICS_TOKEN and RATE_LIMIT_PER_MINUTE', () => {
    const token = 'f'.repeat(40);
    const config = loadConfig({ ...secret, METRICS_TOKEN: token, RATE_LIMIT_PER_MINUTE: '120' });
    expect(config.observability).toEqual({ metricsToken: token, rateLimitPerMinute: 120 });
  });

  it('refuses a short or non-printable METRICS_TOKEN without ever echoing it', () => {
    for (const bad of ['too-short-token', `${'x'.repeat(40)} with spaces`]) {
      try {
        loadConfig({ ...secret, METRICS_TOKEN: bad });
        throw new Error('expected ConfigError');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        const message = (error as ConfigError).message;
        expect(message).toContain('METRICS_TOKEN');
        expect(message).not.toContain(bad);
      }
    }
  });

  it('never echoes AUTH_JWT_SECRET either', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short-secret' })).toThrow(ConfigError);
    try {
      loadConfig({ AUTH_JWT_SECRET: 'short-secret' });
    } catch (error) {
      expect((error as ConfigError).message).not.toContain('short-secret');
    }
  });

  it.each(['-1', '1.5', 'many', '2000000'])('refuses RATE_LIMIT_PER_MINUTE=%s', (value) => {
    expect(() => loadConfig({ ...secret, RATE_LIMIT_PER_MINUTE: value })).toThrow(/RATE_LIMIT_PER_MINUTE/);
  });
});
