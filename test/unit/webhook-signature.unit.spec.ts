import {
  signatureHeader,
  signPayload,
  SIGNATURE_TOLERANCE_SECONDS,
  verifySignature,
} from '../../src/payments/webhook-signature.js';

const SECRET = 'unit-test-webhook-secret-0123456789abcdef';
const BODY = Buffer.from('{"id":"evt_1","type":"payment.succeeded"}');
const NOW = 1_800_000_000;

describe('the payment webhook signature', () => {
  it('is an HMAC-SHA256 over "<t>.<raw body>" (a known vector)', () => {
    // Computed independently: echo -n '1800000000.<body>' | openssl dgst -sha256 -hmac "$SECRET"
    expect(signPayload(SECRET, NOW, BODY)).toBe(
      '7660ccf342cf3cbd90d973ef9a13bdce5d1f4598f5aa745c70ee6dc52ab32b1f',
    );
    expect(signPayload(SECRET, NOW, BODY)).toBe(signPayload(SECRET, NOW, BODY.toString()));
    expect(signPayload(SECRET, NOW, BODY)).not.toBe(signPayload(SECRET, NOW + 1, BODY));
  });

  it('accepts the header the provider sends, within the tolerance either way', () => {
    for (const skew of [0, SIGNATURE_TOLERANCE_SECONDS, -SIGNATURE_TOLERANCE_SECONDS]) {
      const header = signatureHeader(SECRET, NOW + skew, BODY);
      expect(verifySignature(header, BODY, SECRET, NOW)).toEqual({ valid: true });
    }
  });

  it('refuses a timestamp one second past the tolerance', () => {
    for (const skew of [SIGNATURE_TOLERANCE_SECONDS + 1, -SIGNATURE_TOLERANCE_SECONDS - 1]) {
      const header = signatureHeader(SECRET, NOW + skew, BODY);
      expect(verifySignature(header, BODY, SECRET, NOW)).toEqual({ valid: false, reason: 'stale' });
    }
  });

  it('refuses another secret, another body, and says which check failed', () => {
    const header = signatureHeader(SECRET, NOW, BODY);
    expect(verifySignature(header, BODY, `${SECRET}x`, NOW)).toEqual({ valid: false, reason: 'mismatch' });
    expect(verifySignature(header, Buffer.from(`${BODY.toString()} `), SECRET, NOW)).toEqual({
      valid: false,
      reason: 'mismatch',
    });
  });

  it.each([
    ['', 'missing'],
    ['   ', 'missing'],
    ['t=1', 'malformed'],
    [`v1=${'a'.repeat(64)}`, 'malformed'],
    [`t=abc,v1=${'a'.repeat(64)}`, 'malformed'],
    [`t=${NOW},v1=xyz`, 'malformed'],
    [`t=${NOW},t=${NOW},v1=${'a'.repeat(64)}`, 'malformed'],
    ['garbage', 'malformed'],
  ])('refuses the header %p: %s', (header, reason) => {
    expect(verifySignature(header, BODY, SECRET, NOW)).toEqual({ valid: false, reason });
  });

  it('ignores unknown schemes and accepts any matching v1 (a provider rolling its secret)', () => {
    const good = signPayload(SECRET, NOW, BODY);
    const header = `t=${NOW},v0=legacy,v1=${'0'.repeat(64)},v1=${good}`;
    expect(verifySignature(header, BODY, SECRET, NOW)).toEqual({ valid: true });
  });
});
