import type { Filter, Sort } from 'mongodb';
import type { FindQuery, Scalar } from '../read-store.port.js';
import { validateQuery, type StoredSpec } from '../read-store.validation.js';
import { fieldPath, type StoredDocument } from './mongo-codec.js';

/** What `find` sends: a filter, a sort ending with `_id` (so keyset pages are exact) and a limit. */
export interface CompiledFind {
  readonly filter: Filter<StoredDocument>;
  readonly sort: Sort;
  readonly limit: number;
}

/**
 * The filter, sort and limit of a `find`. Field names come only from the spec (validated), values are
 * checked to be scalars and always placed as operands of an explicit operator (`$eq`, `$gte`…), so a value
 * can never become an operator. Only operators FerretDB 1.24 also accepts are used.
 */
export function compileFind(spec: StoredSpec, query: FindQuery): CompiledFind {
  const plan = validateQuery(spec, query);
  const clauses: Record<string, unknown>[] = plan.conditions.map((condition) => {
    const path = fieldPath(condition.field);
    if (condition.kind === 'has') return { [path]: { $elemMatch: { $eq: condition.value } } };
    if (condition.kind === 'eq') return { [path]: { $eq: operand(condition.field, condition.value) } };
    const range: Record<string, unknown> = {};
    if (condition.gte !== undefined) range.$gte = operand(condition.field, condition.gte);
    if (condition.lte !== undefined) range.$lte = operand(condition.field, condition.lte);
    return { [path]: range };
  });
  const sortPath = fieldPath(plan.sort.field);
  const direction = plan.sort.direction === 'asc' ? 1 : -1;
  if (plan.after) {
    // Keyset cursor: strictly beyond the last (sort value, id) of the previous page, in the query's order.
    const beyond = plan.sort.direction === 'asc' ? '$gt' : '$lt';
    const value = operand(plan.sort.field, plan.after.value);
    clauses.push({
      $or: [
        { [sortPath]: { [beyond]: value } },
        { [sortPath]: { $eq: value }, _id: { [beyond]: plan.after.id } },
      ],
    });
  }
  const filter = (clauses.length === 0 ? {} : { $and: clauses }) as Filter<StoredDocument>;
  return { filter, sort: { [sortPath]: direction, _id: direction }, limit: plan.limit };
}

/** Positions are int64 in the documents: compare them with an int64 when the number is an integer. */
function operand(field: string, value: Scalar): Scalar | bigint {
  return field === 'position' && typeof value === 'number' && Number.isSafeInteger(value)
    ? BigInt(value)
    : value;
}
