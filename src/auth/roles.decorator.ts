import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Role } from '../shared/application/command-context.js';

export const ROLES_KEY = 'ordertrail:roles';
export const PUBLIC_KEY = 'ordertrail:public';
export const REFUSAL_KEY = 'ordertrail:refusal';

/** What a caller without the route's roles is told instead of the generic 403: a code and how to proceed. */
export interface RoleRefusal {
  readonly code: string;
  readonly detail: string;
}

/** OpenAPI extensions the document builder turns into security and role notes (operations/openapi.ts). */
export const OPENAPI_ROLES = 'x-ordertrail-roles';
export const OPENAPI_PUBLIC = 'x-ordertrail-public';
export const OPENAPI_SIGNED = 'x-ordertrail-signed';

/** Any of these roles may call the route. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), ApiExtension(OPENAPI_ROLES, roles));
/** The 403 a caller without the route's roles gets, when the generic one would not say how to proceed. */
export const RefuseOthersWith = (refusal: RoleRefusal): MethodDecorator & ClassDecorator =>
  SetMetadata(REFUSAL_KEY, refusal);
/** No token needed (health only). */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension(OPENAPI_PUBLIC, true));
/** No token: the payment provider signs the request instead (checked by the route's own guard). */
export const SignedByPaymentProvider = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension(OPENAPI_SIGNED, true));
