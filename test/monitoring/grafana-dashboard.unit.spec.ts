import { readFileSync } from 'node:fs';
import type { MetricType } from 'prom-client';
import { StageMetrics } from '#osa/observability';
import { metricNames } from './promql-names.js';
import { DASHBOARD_FILE, readRules } from './prometheus-tools.js';

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string; query: string }> };
  panels: Panel[];
}

/** Every name a service's /metrics can serve, from its registry: histograms as their three series. */
function exportedNames(): Set<string> {
  const never = (): Promise<never> => Promise.reject(new Error('not scraped: only the registered names are read'));
  const metrics = new StageMetrics('dashboard-check', {
    queueDepth: never,
    activeRuns: never,
    longestRunStallSeconds: never,
    longestBackpressureWaitSeconds: never,
    backpressureMaxWaitSeconds: 3600,
    ready: never,
  });
  const names = new Set<string>(['up']); // Prometheus's own, per scraped target
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: MetricType };
    if (String(type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (String(type) === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

describe('Grafana dashboard (k8s/monitoring/grafana-dashboard.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
  const exported = exportedNames();

  it('is a dashboard with a stable uid and a Prometheus data source variable that every panel and query uses', () => {
    expect(dashboard).toMatchObject({ uid: 'osa-ingest', title: 'osa-ingest' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    for (const panel of dashboard.panels) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, { type: 'prometheus', uid: '${datasource}' }]);
      expect([panel.title, ['timeseries', 'stat'].includes(panel.type), panel.targets.length > 0]).toEqual([panel.title, true, true]);
      expect([panel.title, new Set(panel.targets.map((t) => t.refId)).size]).toEqual([panel.title, panel.targets.length]);
      for (const target of panel.targets) {
        expect([panel.title, target.datasource, target.expr.trim().length > 0]).toEqual([panel.title, panel.datasource, true]);
      }
    }
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('lays the panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const { title, gridPos: g } of dashboard.panels) {
      expect([title, g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0]).toEqual([title, true]);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect([title, cells.has(`${x},${y}`)]).toEqual([title, false]);
          cells.add(`${x},${y}`);
        }
    }
  });

  it('queries only metrics the services export (names from their metrics registry)', () => {
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr).map((name) => ({ panel: p.title, name }))));
    expect(used.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    expect(used.filter(({ name }) => !exported.has(name))).toEqual([]);
    // What the dashboard is for: each of these is on it.
    const names = new Set(used.map((u) => u.name));
    for (const name of [
      'osa_jobs_processed_total',
      'osa_jobs_failed_total',
      'osa_queue_jobs',
      'osa_backpressure_deferrals_total',
      'osa_active_runs',
      'osa_container_runs_total',
      'osa_memory_escalations_total',
      'osa_bisections_total',
      'osa_batch_duration_seconds_bucket',
    ])
      expect([name, names.has(name)]).toEqual([name, true]);
  });

  it('and so do the alerting rules', () => {
    const used = readRules()
      .groups.flatMap((g) => g.rules)
      .flatMap((r) => metricNames(r.expr).map((name) => ({ alert: r.alert, name })));
    expect(used.filter(({ name }) => !exported.has(name))).toEqual([]);
  });

  it('finds the metric names in an expression (the check above is not vacuous)', () => {
    expect(
      metricNames('histogram_quantile(0.95, sum by (le, stage) (rate(osa_batch_duration_secnds_bucket{outcome="completed"}[$__rate_interval])))'),
    ).toEqual(['osa_batch_duration_secnds_bucket']);
    expect(metricNames('max by (queue) (osa_queue_jobs{state=~"wait"}) > 100 and on(queue) delta(osa_queue_jobs[30m]) > 0 or up == 0')).toEqual([
      'osa_queue_jobs',
      'up',
    ]);
    expect(exported.has('osa_batch_duration_secnds_bucket')).toBe(false);
  });
});
