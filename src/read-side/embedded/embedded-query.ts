import type { FindQuery, Scalar } from '../read-store.port.js';
import { validateQuery, type StoredSpec } from '../read-store.validation.js';
import { DOCUMENT_COLUMNS, fieldExpression, quoteIdentifier, sideTable } from './embedded-schema.js';

/** The statement a `find` runs: SQL text (cached by the store per distinct text) and its parameters. */
export interface CompiledFind {
  readonly sql: string;
  readonly params: unknown[];
  readonly limit: number;
}

/**
 * The SQL of a `find`: only validated names (declared fields, `position`) reach the SQL text, every value
 * is a bound parameter. Throws before anything runs if the query is not allowed.
 * Comparisons are typed like MongoDB's: `eq: 1` does not match `true` or `"1"`, a numeric range matches
 * numbers only, a string range strings only.
 */
export function compileFind(collection: string, spec: StoredSpec, query: FindQuery): CompiledFind {
  const plan = validateQuery(spec, query);
  const table = quoteIdentifier(collection);
  const where: string[] = [];
  const params: unknown[] = [];

  for (const condition of plan.conditions) {
    const expression = fieldExpression(condition.field);
    if (condition.kind === 'has') {
      where.push(
        `id IN (SELECT id FROM ${quoteIdentifier(sideTable(collection, condition.field))} WHERE value = ?)`,
      );
      params.push(JSON.stringify(condition.value));
    } else if (condition.kind === 'eq') {
      where.push(`${expression} = ?`);
      params.push(bindable(condition.value));
      const type = typeCheck(condition.field, condition.value);
      if (type) where.push(type);
    } else {
      const sample = condition.gte ?? condition.lte;
      if (condition.gte !== undefined) {
        where.push(`${expression} >= ?`);
        params.push(bindable(condition.gte));
      }
      if (condition.lte !== undefined) {
        where.push(`${expression} <= ?`);
        params.push(bindable(condition.lte));
      }
      if (condition.field !== 'position' && sample !== undefined) {
        // Keep the index range tight and the type bracket exact: every number sorts below every text in
        // SQLite, and '' is the smallest text.
        where.push(typeof sample === 'number' ? `${expression} < ''` : `${expression} >= ''`);
        const type = typeCheck(condition.field, sample);
        if (type) where.push(type);
      }
    }
  }

  const sortExpression = fieldExpression(plan.sort.field);
  const direction = plan.sort.direction === 'asc' ? 'ASC' : 'DESC';
  if (plan.after) {
    // The row-value comparison is the exact keyset condition; the plain bound before it is implied by it
    // and is what lets SQLite turn it into an index range after equality columns (it does not use a row
    // value for a range that follows an equality prefix).
    const [bound, beyond] = plan.sort.direction === 'asc' ? ['>=', '>'] : ['<=', '<'];
    const value = bindable(plan.after.value);
    where.push(`${sortExpression} ${bound} ?`, `(${sortExpression}, id) ${beyond} (?, ?)`);
    params.push(value, value, plan.after.id);
  }
  params.push(plan.limit);
  const sql =
    `SELECT ${DOCUMENT_COLUMNS} FROM ${table}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${sortExpression} ${direction}, id ${direction} LIMIT ?`;
  return { sql, params, limit: plan.limit };
}

/** Extra condition making a comparison exact about JSON types (true is 1 for json_extract). */
function typeCheck(field: string, value: Scalar): string | null {
  if (field === 'position') return null;
  const type = `json_type(data, '$.${field}')`;
  if (typeof value === 'boolean') return `${type} IN ('true', 'false')`;
  if (typeof value === 'number') return `${type} IN ('integer', 'real')`;
  return null;
}

/** better-sqlite3 cannot bind booleans; json_extract answers 1/0 for true/false. Integers bind exactly. */
function bindable(value: Scalar): string | number | bigint {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}
