import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { DashboardEnv } from '../dashboard-env.js';
import { DASHBOARD_ENV } from '../tokens.js';
import { AuthGuard, OPEN_CONTROLLERS } from './auth.guard.js';
import { Authenticator } from './authenticator.js';
import { LoginController } from './login.controller.js';
import { LoginRedirectFilter } from './login-required.js';

/**
 * Authentication and scopes for every route of the dashboard (a global guard), and the login
 * form. `open` lists the shared controllers that stay public (health, metrics). Global, so the
 * Bull Board middleware checks requests with the same Authenticator (one session key).
 */
@Module({})
export class AuthModule {
  static forRoot(env: DashboardEnv, options: { open: Type[] }): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      controllers: [LoginController],
      providers: [
        { provide: DASHBOARD_ENV, useValue: env },
        Authenticator,
        { provide: OPEN_CONTROLLERS, useValue: new Set(options.open) },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: LoginRedirectFilter },
      ],
      exports: [Authenticator],
    };
  }
}
