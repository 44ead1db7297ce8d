import { type CanActivate, type ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { sameSecret } from '../credentials.js';
import { DASHBOARD_ENV } from '../tokens.js';
import type { DashboardEnv } from '../dashboard-env.js';

/** `Authorization: Bearer <API_TOKEN>` on every /api route (open only in insecure dev mode). */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(@Inject(DASHBOARD_ENV) private readonly env: DashboardEnv) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.env.apiToken;
    if (!expected) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match || !sameSecret(match[1]!, expected)) {
      throw new UnauthorizedException('a valid bearer token is required (Authorization: Bearer <API_TOKEN>)');
    }
    return true;
  }
}
