#!/usr/bin/env node
/**
 * Prints a signed HS256 bearer token for trying the API by hand and for tests:
 *   npm run -s token -- --role shopper --sub c-1 [--role auditor …] [--ttl 3600]
 * The secret is AUTH_JWT_SECRET, or the public development secret (the one the service uses when
 * NODE_ENV=development and no secret is set).
 */
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';

const DEV_JWT_SECRET = 'ordertrail-dev-secret-change-me';
const ROLES = ['shopper', 'operator', 'auditor'];

function usage(message) {
  process.stderr.write(
    `${message}\nusage: npm run -s token -- --role <${ROLES.join('|')}> [--role …] --sub <subject> [--ttl seconds]\n`,
  );
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string', multiple: true },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '86400' },
    },
  }));
} catch (error) {
  usage(error.message);
}
const roles = values.role ?? [];
if (roles.length === 0) usage('--role is required');
for (const role of roles) if (!ROLES.includes(role)) usage(`unknown role "${role}"`);
if (!values.sub) usage('--sub is required');
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) usage('--ttl must be a positive number of seconds');

const secret = process.env.AUTH_JWT_SECRET || DEV_JWT_SECRET;
const now = Math.floor(Date.now() / 1000);
const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: values.sub, roles, iat: now, exp: now + ttl })}`;
const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
process.stdout.write(`${unsigned}.${signature}\n`);
