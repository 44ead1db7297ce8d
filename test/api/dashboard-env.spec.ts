import { DashboardConfigError, loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';

const secure = { DASHBOARD_USER: 'operator', DASHBOARD_PASSWORD: 'correct horse battery', API_TOKEN: 'a'.repeat(32) };

describe(loadDashboardEnv.name, () => {
  it('refuses to start without credentials and names the variables', () => {
    expect(() => loadDashboardEnv({})).toThrow(DashboardConfigError);
    expect(() => loadDashboardEnv({})).toThrow(/DASHBOARD_USER, DASHBOARD_PASSWORD: required[\s\S]*API_TOKEN: required/);
    expect(() => loadDashboardEnv({ ...secure, API_TOKEN: '' })).toThrow(/API_TOKEN: required/);
    expect(() => loadDashboardEnv({ ...secure, DASHBOARD_PASSWORD: undefined })).toThrow(
      /DASHBOARD_PASSWORD: must be set together with DASHBOARD_USER/,
    );
  });

  it('rejects weak or malformed values, naming the variable', () => {
    expect(() => loadDashboardEnv({ ...secure, API_TOKEN: 'short' })).toThrow(/API_TOKEN: must be at least 24/);
    expect(() => loadDashboardEnv({ ...secure, DASHBOARD_PASSWORD: 'short' })).toThrow(/DASHBOARD_PASSWORD: must be at least 12/);
    expect(() => loadDashboardEnv({ ...secure, DASHBOARD_INSECURE_DEV: 'yes' })).toThrow(/DASHBOARD_INSECURE_DEV/);
  });

  it('starts without credentials only when DASHBOARD_INSECURE_DEV=true', () => {
    expect(loadDashboardEnv({ DASHBOARD_INSECURE_DEV: 'true' })).toEqual({ basicAuth: undefined, apiToken: undefined, insecureDev: true });
  });

  it('keeps the credentials it was given', () => {
    expect(loadDashboardEnv(secure)).toEqual({
      basicAuth: { user: 'operator', password: 'correct horse battery' },
      apiToken: secure.API_TOKEN,
      insecureDev: false,
    });
  });
});
