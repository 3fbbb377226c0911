import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Role } from '../shared/application/command-context.js';

export const ROLES_KEY = 'ordertrail:roles';
export const PUBLIC_KEY = 'ordertrail:public';

/** OpenAPI extensions the document builder turns into security and role notes (operations/openapi.ts). */
export const OPENAPI_ROLES = 'x-ordertrail-roles';
export const OPENAPI_PUBLIC = 'x-ordertrail-public';

/** Any of these roles may call the route. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ROLES_KEY, roles), ApiExtension(OPENAPI_ROLES, roles));
/** No token needed (health only). */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension(OPENAPI_PUBLIC, true));
