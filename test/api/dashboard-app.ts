import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '#osa/config';
import { DashboardModule } from '../../apps/dashboard/src/dashboard.module.js';
import { type DashboardEnv, loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';

export const API_TOKEN = 'test-token-0123456789abcdef0123';
/** Bull Board's former basic-auth credentials: still accepted by the env, no longer a way in. */
export const BOARD_USER = 'operator';
export const BOARD_PASSWORD = 'correct horse battery staple';

/** The dashboard served on a free port, against a harness's Redis prefix and database. */
export class DashboardApp {
  private constructor(
    readonly app: INestApplication,
    readonly url: string,
  ) {}

  static async start(config: AppConfig, env: DashboardEnv = loadDashboardEnv({ API_TOKEN })) {
    const app = await NestFactory.create(DashboardModule.forRoot(config, env), { logger: process.env.DEBUG_PIPELINE ? ['error', 'warn'] : false });
    await app.listen(0, '127.0.0.1');
    return new DashboardApp(app, (await app.getUrl()).replace('[::1]', '127.0.0.1'));
  }

  /** fetch with the API token (pass `token: null` to send none). */
  api(path: string, init: RequestInit & { token?: string | null; json?: unknown } = {}): Promise<Response> {
    const { token = API_TOKEN, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${this.url}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  }

  stop(): Promise<void> {
    return this.app.close();
  }
}

export const basicAuthHeader = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
