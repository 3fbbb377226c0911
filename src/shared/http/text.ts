import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateBy, ValidateIf } from 'class-validator';
import {
  ITEM_NAME_PATTERN,
  ITEM_NAME_RULE,
  MAX_ITEM_NAME_LENGTH,
  isItemName,
  nameLength,
} from '../domain/index.js';

/**
 * An item name in a body, held to the domain's own rule (`isItemName`: the same length, counted the same way),
 * so the request is refused here (400 naming the field) and never reaches the domain to be refused there. The
 * OpenAPI schema says the same: JSON Schema's `maxLength` counts code points too.
 */
export function IsItemName(example: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: 'string',
      minLength: 1,
      maxLength: MAX_ITEM_NAME_LENGTH,
      pattern: ITEM_NAME_PATTERN.source,
      example,
      description: `${ITEM_NAME_RULE[0]!.toUpperCase()}${ITEM_NAME_RULE.slice(1)}`,
    }),
    ValidateBy({
      name: 'isItemName',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isItemName(value),
        defaultMessage: (args) => `${args?.property ?? 'name'} must be ${ITEM_NAME_RULE}`,
      },
    }),
  );
}

/** Control characters, and a UTF-16 surrogate without its other half. */
const CONTROL_OR_LONE_SURROGATE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NAME_SEARCH_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]+$';

/** A name prefix to search by: 1 to MAX_ITEM_NAME_LENGTH code points (as names count), no control characters. */
export function IsNameSearch(description: string, example: string): PropertyDecorator {
  const rule = `1 to ${MAX_ITEM_NAME_LENGTH} characters (Unicode code points), no control characters`;
  return applyDecorators(
    ApiPropertyOptional({
      type: 'string',
      minLength: 1,
      maxLength: MAX_ITEM_NAME_LENGTH,
      pattern: NAME_SEARCH_PATTERN,
      example,
      description: `${description}: ${rule}`,
    }),
    ValidateBy({
      name: 'isNameSearch',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          nameLength(value) >= 1 &&
          nameLength(value) <= MAX_ITEM_NAME_LENGTH &&
          !CONTROL_OR_LONE_SURROGATE.test(value),
        defaultMessage: (args) => `${args?.property ?? 'name'} must be ${rule}`,
      },
    }),
  );
}

/**
 * `min` to `max` characters, counted in Unicode code points as JSON Schema's `minLength`/`maxLength` count them
 * (class-validator's `Length` does not count U+FE0E/U+FE0F at all, so a schema-valid string could be refused).
 */
export function CodePointLength(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'codePointLength',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && nameLength(value) >= min && nameLength(value) <= max,
      defaultMessage: (args) => `${args?.property ?? 'value'} must be ${min} to ${max} characters long`,
    },
  });
}

/**
 * Some character that is not a space: JavaScript's `\S`, spelled out (Python's `\s`, which schemathesis and
 * other tools read the document with, differs from it), so that the document and the server agree.
 */
export const NOT_BLANK = new RegExp(
  '[^\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]',
);

/**
 * An optional body field: it may be left out, but when given it is validated — `null` included (class-validator's
 * `IsOptional` would take `null` for "left out", which the document does not say and no client needs).
 */
export function IsOmittable(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}
