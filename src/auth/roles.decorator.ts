import { SetMetadata } from '@nestjs/common';
import type { Role } from '../shared/application/command-context.js';

export const ROLES_KEY = 'ordertrail:roles';
export const PUBLIC_KEY = 'ordertrail:public';

/** Any of these roles may call the route. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);
/** No token needed (health only). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
