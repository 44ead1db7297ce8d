import { z } from 'zod';

/** The dashboard's own settings, on top of the services' AppConfig. */
export interface DashboardEnv {
  /** Basic auth for Bull Board at /queues; undefined only in insecure development mode. */
  basicAuth?: { user: string; password: string };
  /** Bearer token for /api; undefined only in insecure development mode. */
  apiToken?: string;
  insecureDev: boolean;
}

const schema = z.object({
  DASHBOARD_USER: z.string().min(1, 'must not be empty').optional(),
  DASHBOARD_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  API_TOKEN: z.string().min(24, 'must be at least 24 characters (e.g. `openssl rand -hex 24`)').optional(),
  DASHBOARD_INSECURE_DEV: z.enum(['true', 'false'], 'must be "true" or "false"').default('false'),
});

/** Raised when the dashboard would start unprotected or with a bad setting; names every variable. */
export class DashboardConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid dashboard configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DashboardConfigError';
  }
}

/**
 * Bull Board can retry, promote and delete jobs, and the API starts runs: the dashboard refuses
 * to start without DASHBOARD_USER + DASHBOARD_PASSWORD and API_TOKEN, unless
 * DASHBOARD_INSECURE_DEV=true (local development; whatever credentials are set still apply).
 */
export function loadDashboardEnv(env: Record<string, string | undefined> = process.env): DashboardEnv {
  const blankToUndefined = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = schema.safeParse(blankToUndefined);
  if (!parsed.success) {
    throw new DashboardConfigError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  }
  const e = parsed.data;
  const insecureDev = e.DASHBOARD_INSECURE_DEV === 'true';
  const problems: string[] = [];
  if (Boolean(e.DASHBOARD_USER) !== Boolean(e.DASHBOARD_PASSWORD)) {
    problems.push(
      `${e.DASHBOARD_USER ? 'DASHBOARD_PASSWORD' : 'DASHBOARD_USER'}: must be set together with ${e.DASHBOARD_USER ? 'DASHBOARD_USER' : 'DASHBOARD_PASSWORD'}`,
    );
  } else if (!e.DASHBOARD_USER && !insecureDev) {
    problems.push(
      'DASHBOARD_USER, DASHBOARD_PASSWORD: required — Bull Board (/queues) can retry and delete jobs, so it is served only behind basic auth ' +
        '(set DASHBOARD_INSECURE_DEV=true to run without it on a development machine)',
    );
  }
  if (!e.API_TOKEN && !insecureDev) {
    problems.push('API_TOKEN: required — the HTTP API (/api) starts and replays runs, so it needs a bearer token (or DASHBOARD_INSECURE_DEV=true)');
  }
  if (problems.length) throw new DashboardConfigError(problems);
  return {
    basicAuth: e.DASHBOARD_USER && e.DASHBOARD_PASSWORD ? { user: e.DASHBOARD_USER, password: e.DASHBOARD_PASSWORD } : undefined,
    apiToken: e.API_TOKEN,
    insecureDev,
  };
}
