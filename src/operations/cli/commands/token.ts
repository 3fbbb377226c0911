import { EXIT, positiveInteger, UsageError, writeJson, type OfflineCommand } from '../command.js';
import { DEV_JWT_SECRET, isRole, ROLES, signDevToken, type Role } from '../dev-token.js';

export const tokenCommand: OfflineCommand = {
  usage: `token --role <${ROLES.join('|')}> [--role …] --sub <subject> [--ttl seconds]`,
  summary: 'print a dev token signed with AUTH_JWT_SECRET (or the public development secret)',
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
    const secret = io.env.AUTH_JWT_SECRET || DEV_JWT_SECRET;
    const token = signDevToken({ sub: values.sub, roles: roles as Role[], ttlSeconds }, secret);
    if (json) writeJson(io, { token });
    else io.stdout.write(`${token}\n`);
    return EXIT.ok;
  },
};
