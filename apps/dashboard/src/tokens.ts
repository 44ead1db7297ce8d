/** Nest injection token of the dashboard's own settings. */
export const DASHBOARD_ENV = Symbol('DASHBOARD_ENV');
