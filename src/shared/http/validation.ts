import {
  Injectable,
  ValidationPipe,
  type ArgumentMetadata,
  type PipeTransform,
  type Type,
  type ValidationError,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { ResourceNotFoundError } from '../application/errors.js';
import { UUID_PATTERN } from '../application/ids.js';
import { SKU_PATTERN } from '../domain/index.js';
import { HttpProblem } from './http-errors.js';

interface FieldError {
  field: string;
  message: string;
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

function bodyValidation(options: ValidationPipeOptions): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const detail =
        fields.map((f) => `${f.field}: ${f.message}`).join('; ') || 'The request body is invalid';
      return HttpProblem.badRequest('VALIDATION_FAILED', detail, { errors: fields });
    },
    ...options,
  });
}

/**
 * Strict body validation: unknown fields, wrong types (no implicit conversion: "5" is not a number) and
 * out-of-range values are a 400 problem naming every offending field.
 */
export function strictValidationPipe(): ValidationPipe {
  return bodyValidation({ forbidNonWhitelisted: true });
}

/**
 * Validation of a body another system writes (the payment provider's webhook): the same checks and answers
 * as the strict pipe, but fields it does not know are dropped, not refused — providers add fields over time,
 * and refusing them would make the provider retry a delivery for ever. Use it as `@Body(lenientBody(Dto))`
 * with the parameter typed `unknown` (so that the global strict pipe does not know the class).
 */
export function lenientBody(type: Type<unknown>): ValidationPipe {
  return bodyValidation({ expectedType: type, forbidNonWhitelisted: false });
}

/** A body must be a JSON object (not an array, string or number) before its fields are validated. */
@Injectable()
export class JsonObjectBodyPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    // No body at all is `{}`; a body that says `null` is a JSON value, and not an object.
    if (value === undefined) return {};
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw HttpProblem.badRequest('BODY_NOT_AN_OBJECT', 'The request body must be a JSON object');
    }
    return value;
  }
}

/**
 * A path segment naming a resource: anything that cannot be one of its ids names nothing, so it is a 404
 * (the answer an unknown id gets), never a 400.
 */
class IdPathPipe implements PipeTransform<string, string> {
  constructor(
    private readonly resource: string,
    private readonly pattern: RegExp,
    private readonly normalise: (id: string) => string = (id) => id,
  ) {}

  transform(value: string): string {
    if (!this.pattern.test(value)) throw new ResourceNotFoundError(this.resource, value);
    return this.normalise(value);
  }
}

/** Ids in paths are UUIDs (stored lower-case, so any spelling of one names it). */
export class UuidPathPipe extends IdPathPipe {
  constructor(resource: string) {
    super(resource, UUID_PATTERN, (id) => id.toLowerCase());
  }
}

/** Skus in paths follow SKU_PATTERN, case-sensitive (`A-1` and `a-1` are two products). */
export class SkuPathPipe extends IdPathPipe {
  constructor(resource: string) {
    super(resource, SKU_PATTERN);
  }
}

/** For routes that take no body: any field sent is an error rather than silently ignored. */
@Injectable()
export class EmptyBodyPipe implements PipeTransform {
  transform(value: unknown): unknown {
    const fields = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    if (fields.length > 0) {
      throw HttpProblem.badRequest(
        'VALIDATION_FAILED',
        `This route takes no body fields: ${fields.join(', ')}`,
        {
          errors: fields.map((field) => ({ field, message: `property ${field} should not exist` })),
        },
      );
    }
    return value;
  }
}
