import { DashboardConfigError, loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';

const secure = { API_TOKEN: 'a'.repeat(32) };

describe(loadDashboardEnv.name, () => {
  it('refuses to start without an API credential and names the variable', () => {
    expect(() => loadDashboardEnv({})).toThrow(DashboardConfigError);
    expect(() => loadDashboardEnv({})).toThrow(/API_TOKEN: required — the HTTP API \(\/api\) and Bull Board \(\/queues\)/);
    expect(() => loadDashboardEnv({ ...secure, API_TOKEN: '' })).toThrow(/API_TOKEN: required/);
    // The board's former basic auth is no credential of its own.
    expect(() => loadDashboardEnv({ DASHBOARD_USER: 'operator', DASHBOARD_PASSWORD: 'correct horse battery' })).toThrow(/API_TOKEN: required/);
  });

  it('rejects weak or malformed values, naming the variable', () => {
    expect(() => loadDashboardEnv({ ...secure, API_TOKEN: 'short' })).toThrow(/API_TOKEN: must be at least 24/);
    expect(() => loadDashboardEnv({ ...secure, DASHBOARD_INSECURE_DEV: 'yes' })).toThrow(/DASHBOARD_INSECURE_DEV/);
  });

  it('starts without credentials only when DASHBOARD_INSECURE_DEV=true', () => {
    expect(loadDashboardEnv({ DASHBOARD_INSECURE_DEV: 'true' })).toEqual({ apiToken: undefined, insecureDev: true, ignored: [] });
  });

  it('keeps the credentials it was given', () => {
    expect(loadDashboardEnv(secure)).toEqual({ apiToken: secure.API_TOKEN, insecureDev: false, ignored: [] });
  });

  it('accepts the former Bull Board basic-auth settings, and lists them as ignored (the service warns at startup)', () => {
    expect(loadDashboardEnv({ ...secure, DASHBOARD_USER: 'operator', DASHBOARD_PASSWORD: 'short' }).ignored).toEqual([
      'DASHBOARD_USER',
      'DASHBOARD_PASSWORD',
    ]);
  });
});
