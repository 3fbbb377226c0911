#!/usr/bin/env node
/**
 * Prints a signed HS256 bearer token (sub, roles, iat, exp) for trying the API by hand and for tests:
 *   npm run -s token -- --role shopper --sub c-1 [--role auditor …] [--ttl 3600]
 * The secret is AUTH_JWT_SECRET — from the environment, or from .env, which `npm run token` reads (node
 * --env-file=.env when there is one) — else the public development secret (the one the service uses when
 * NODE_ENV=development and no secret is set). stdout carries the token alone; stderr says which secret signed
 * it and when it expires (the same note as `npm run -s ops -- token`, src/operations/cli/dev-token.ts).
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';

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

/** Where AUTH_JWT_SECRET came from: the env file Node read (when its value there is the one in effect). */
function secretSource() {
  for (const arg of process.execArgv) {
    const file = /^--env-file(?:-if-exists)?=(.*)$/.exec(arg)?.[1];
    if (!file || !existsSync(file)) continue;
    if (parseEnv(readFileSync(file, 'utf8')).AUTH_JWT_SECRET === process.env.AUTH_JWT_SECRET) {
      return `AUTH_JWT_SECRET from ${resolve(file)}`;
    }
  }
  return 'AUTH_JWT_SECRET from the environment';
}

const development = !process.env.AUTH_JWT_SECRET;
const secret = development ? DEV_JWT_SECRET : process.env.AUTH_JWT_SECRET;
const now = Math.floor(Date.now() / 1000);
const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: values.sub, roles, iat: now, exp: now + ttl })}`;
const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
const expiry = `expires ${new Date((now + ttl) * 1000).toISOString()}`;
process.stderr.write(
  development
    ? `note: signed with the public development secret (AUTH_JWT_SECRET is not set here), ${expiry}: only a ` +
        'service started by npm run start:dev without AUTH_JWT_SECRET accepts it. For a service with a secret ' +
        'of its own, export the same AUTH_JWT_SECRET or put it in .env\n'
    : `note: signed with ${secretSource()}, ${expiry}: a service started with the same secret accepts it\n`,
);
process.stdout.write(`${unsigned}.${signature}\n`);
