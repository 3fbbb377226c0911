import { EXIT, positiveInteger, UsageError, writeJson, type OfflineCommand } from '../command.js';
import { isRole, ROLES, signDevToken, signingSecret, tokenNote, type Role } from '../dev-token.js';

export const tokenCommand: OfflineCommand = {
  usage: `token --role <${ROLES.join('|')}> [--role …] --sub <subject> [--ttl seconds]`,
  summary:
    'print a token signed with AUTH_JWT_SECRET (from the environment or .env), else the public development ' +
    'secret; says which on stderr',
  args: [],
  options: ['role', 'sub', 'ttl', 'json', 'help'],
  offline: true,
  async run({ values, io, json }) {
    const roles = values.role ?? [];
    if (roles.length === 0) throw new UsageError('--role is required');
    for (const role of roles) {
      if (!isRole(role)) throw new UsageError(`unknown role "${role}" (one of: ${ROLES.join(', ')})`);
    }
    if (!values.sub) throw new UsageError('--sub is required');
    const ttlSeconds = positiveInteger(values.ttl ?? '86400', 'ttl', 10 * 365 * 86_400)!;
    const signing = signingSecret(io.env);
    const now = Date.now();
    const token = signDevToken({ sub: values.sub, roles: roles as Role[], ttlSeconds }, signing.secret, now);
    const expiresAt = new Date((Math.floor(now / 1000) + ttlSeconds) * 1000);
    io.stderr.write(tokenNote(signing, expiresAt));
    if (json) {
      writeJson(io, {
        token,
        secret: signing.development ? 'development' : 'AUTH_JWT_SECRET',
        expiresAt: expiresAt.toISOString(),
      });
    } else io.stdout.write(`${token}\n`);
    return EXIT.ok;
  },
};
