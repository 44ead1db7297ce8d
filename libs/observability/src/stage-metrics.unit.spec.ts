import { StageMetrics, type MetricsSources } from './stage-metrics.js';

const sources = (overrides: Partial<MetricsSources> = {}): MetricsSources => ({
  queueDepth: () => Promise.resolve([{ queue: 'ingest-next-batch', state: 'wait', count: 2 }]),
  activeRuns: () => Promise.resolve(1),
  longestRunStallSeconds: () => Promise.resolve(30),
  longestBackpressureWaitSeconds: () => Promise.resolve(0),
  backpressureMaxWaitSeconds: 3600,
  ready: () => Promise.resolve(true),
  ...overrides,
});

const scrape = (s: MetricsSources) => new StageMetrics('hook-runner', s, { defaultMetrics: false }).metrics();
const lost = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));

describe('StageMetrics readiness', () => {
  it('exports osa_ready 1 while the service can reach Redis and Postgres', async () => {
    expect(await scrape(sources())).toContain('osa_ready{service="hook-runner"} 1');
  });

  it('still answers the scrape when Postgres is lost: osa_ready 0 and the Postgres gauges unknown', async () => {
    const text = await scrape(sources({ ready: () => Promise.resolve(false), activeRuns: lost, longestRunStallSeconds: lost, queueDepth: lost }));
    expect(text).toContain('osa_ready{service="hook-runner"} 0');
    // prom-client writes NaN as "Nan"; Prometheus parses it case-insensitively.
    expect(text).toMatch(/^osa_active_runs\{service="hook-runner"\} nan$/im);
    expect(text).toMatch(/^osa_active_run_stalled_seconds\{service="hook-runner"\} nan$/im);
    expect(text).not.toContain('osa_queue_jobs{');
  });

  it('counts a readiness check that throws as not ready', async () => {
    expect(await scrape(sources({ ready: lost }))).toContain('osa_ready{service="hook-runner"} 0');
  });
});
