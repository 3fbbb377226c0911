import type { FastifyInstance } from 'fastify';
import { problem, type ProblemDetails } from './problem.js';

/**
 * The methods the app answers on a path, from Fastify's own router (so every route, whoever registered it):
 * HEAD comes with every GET. Sorted, for a stable `Allow` header.
 */
export function allowedMethods(fastify: FastifyInstance, url: string): string[] {
  const path = url.split('?', 1)[0] ?? url;
  return fastify.supportedMethods
    .filter((method) => fastify.findRoute({ method, url: path }) !== null)
    .sort();
}

/**
 * A 405 with its `Allow` header when the path is served, but not with this method; null when no route serves
 * the path at all (then it is a 404).
 */
export function methodNotAllowed(
  fastify: FastifyInstance,
  method: string,
  url: string,
): { body: ProblemDetails; allow: string } | null {
  const allowed = allowedMethods(fastify, url);
  if (allowed.length === 0 || allowed.includes(method.toUpperCase())) return null;
  const allow = allowed.join(', ');
  return {
    body: problem(
      405,
      'METHOD_NOT_ALLOWED',
      `${method.toUpperCase()} is not allowed here; this path answers ${allow}`,
      {
        allow: allowed,
      },
    ),
    allow,
  };
}
