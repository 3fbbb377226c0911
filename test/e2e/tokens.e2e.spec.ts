import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { JwtService } from '@nestjs/jwt';
import { OPS_BIN } from '../support/operator-tools.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** A token signed by hand: any header, any claims (jsonwebtoken's sign refuses some of these). */
function handMade(header: object, claims: object, secret = TEST_JWT_SECRET): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const HS256 = { alg: 'HS256', typ: 'JWT' };
const now = (): number => Math.floor(Date.now() / 1000);

describe('tokens: exp is required, a 401 says which check failed', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (authorization: string | null) => {
    const req = t.http.post('/carts');
    return (authorization === null ? req : req.set('authorization', authorization)).send({ currency: 'EUR' });
  };

  it('a token with sub, roles and exp is accepted', async () => {
    await post(`Bearer ${handMade(HS256, { sub: 'c-1', roles: ['shopper'], exp: now() + 60 })}`).expect(201);
  });

  const jwt = new JwtService({ secret: TEST_JWT_SECRET });
  const cases: [string, () => string | null, string][] = [
    ['no Authorization header', () => null, 'missing'],
    ['another scheme', () => 'Basic Yzox', 'scheme'],
    ['not a JWT', () => 'Bearer abc.def.ghi', 'malformed'],
    [
      'another algorithm',
      () => `Bearer ${jwt.sign({ sub: 'c', roles: ['shopper'] }, { algorithm: 'HS512', expiresIn: 60 })}`,
      'algorithm',
    ],
    [
      'another secret',
      () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], exp: now() + 60 }, 'x'.repeat(32))}`,
      'signature',
    ],
    [
      'another secret and expired (the signature is checked first)',
      () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], exp: now() - 60 }, 'x'.repeat(32))}`,
      'signature',
    ],
    [
      'expired',
      () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], exp: now() - 60 })}`,
      'expired',
    ],
    [
      'not valid yet',
      () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], nbf: now() + 600, exp: now() + 900 })}`,
      'not-yet-valid',
    ],
    ['no exp', () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], iat: now() })}`, 'exp'],
    [
      'an exp that is not a number',
      () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], exp: 'tomorrow' })}`,
      'claims',
    ],
    [
      'an unknown role',
      () => `Bearer ${handMade(HS256, { sub: 'c', roles: ['admin'], exp: now() + 60 })}`,
      'claims',
    ],
    ['no sub', () => `Bearer ${handMade(HS256, { roles: ['shopper'], exp: now() + 60 })}`, 'claims'],
  ];

  it.each(cases)('%s: 401 UNAUTHORIZED, check %s', async (_what, authorization, check) => {
    const header = authorization();
    const res = await post(header);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'UNAUTHORIZED', check });
    // Nothing leaks: neither the secret nor the token comes back.
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(TEST_JWT_SECRET);
    if (header) expect(text).not.toContain(header.slice(7));
  });

  it('the detail says what to do about a missing exp and about a signature', async () => {
    const noExp = await post(`Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'] })}`);
    expect(noExp.body.detail).toContain('no "exp" claim');
    const foreign = await post(
      `Bearer ${handMade(HS256, { sub: 'c', roles: ['shopper'], exp: now() + 60 }, 'y'.repeat(32))}`,
    );
    expect(foreign.body.detail).toContain('signed with another secret');
  });

  describe('npm run -s token and the CLI’s token: the configured secret, and they say which', () => {
    const mint = (tool: 'script' | 'cli', env: Record<string, string>) =>
      run(
        process.execPath,
        tool === 'script'
          ? [resolve(ROOT, 'scripts/token.mjs'), '--role', 'shopper', '--sub', 'c-mint']
          : [OPS_BIN, 'token', '--role', 'shopper', '--sub', 'c-mint'],
        { env: { PATH: process.env.PATH ?? '', ...env } },
      );

    it.each(['script', 'cli'] as const)(
      '%s: AUTH_JWT_SECRET set → signed with it, accepted; stdout is the token alone',
      async (tool) => {
        const { stdout, stderr } = await mint(tool, { AUTH_JWT_SECRET: TEST_JWT_SECRET });
        expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
        expect(stderr).toContain('signed with AUTH_JWT_SECRET from the environment');
        expect(stderr).toMatch(/expires \d{4}-\d\d-\d\dT/);
        expect(stderr).not.toContain(TEST_JWT_SECRET);
        await post(`Bearer ${stdout.trim()}`).expect(201);
      },
    );

    it.each(['script', 'cli'] as const)(
      '%s: AUTH_JWT_SECRET unset → the development secret, said so; a service with a secret refuses it',
      async (tool) => {
        const { stdout, stderr } = await mint(tool, {});
        expect(stderr).toContain(
          'signed with the public development secret (AUTH_JWT_SECRET is not set here)',
        );
        expect(stderr).toContain('export the same AUTH_JWT_SECRET or put it in .env');
        const refused = await post(`Bearer ${stdout.trim()}`);
        expect(refused.status).toBe(401);
        expect(refused.body.check).toBe('signature');
      },
    );
  });
});
