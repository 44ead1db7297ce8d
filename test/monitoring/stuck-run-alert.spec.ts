import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { waitFor } from '#osa/testing';
import { fixture } from '../support/pipeline-harness.js';
import { buildServices, ProcessHarness, type ServiceName } from '../support/process-harness.js';
import { DASHBOARD_FILE, prometheusBinary, readRules, ROOT } from './prometheus-tools.js';

const SERVICES: ServiceName[] = ['ingester-runner', 'hook-runner', 'publisher'];
/** How stale a run may get here before the alert condition holds, and for how long it must hold. */
const STUCK_AFTER_SECONDS = 5;
const STUCK_FOR = '2s';

interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * The alerting rules as shipped, with the stuck-run threshold and its `for` made short enough
 * for a test; every other rule is left exactly as it is.
 */
function renderRulesForTest(file: string): void {
  const rules = readRules();
  const stuck = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'OsaRunStuck');
  if (!stuck || !/^max\(osa_active_run_stalled_seconds\) > \d+$/.test(stuck.expr)) {
    throw new Error(`OsaRunStuck is no longer "max(osa_active_run_stalled_seconds) > N": update this test (${stuck?.expr})`);
  }
  stuck.expr = stuck.expr.replace(/> \d+$/, `> ${STUCK_AFTER_SECONDS}`);
  stuck.for = STUCK_FOR;
  writeFileSync(file, stringifyYaml(rules));
}

/**
 * The real services on the local runner, scraped by a real Prometheus (Debian's package) with the
 * shipped alerting rules: a hook that hangs leaves its run without ledger progress, and
 * Prometheus fires OsaRunStuck.
 */
describe('a real Prometheus scraping the services', () => {
  let harness: ProcessHarness;
  let prometheus: ChildProcess | undefined;
  let prometheusExited: Promise<void> | undefined;
  let prometheusLog = '';
  let work: string;
  let api: string;
  const ports: Partial<Record<ServiceName, number>> = {};

  beforeAll(async () => {
    const binary = prometheusBinary('prometheus');
    buildServices();
    // A short grace period: the hook that hangs is still running when the services are stopped.
    harness = await ProcessHarness.start('prom-alert', { SHUTDOWN_GRACE_SECONDS: '2' });
    for (const name of SERVICES) {
      ports[name] = await freePort();
      harness.startService(name, { PORT: String(ports[name]) });
    }
    for (const name of SERVICES) {
      await waitFor(
        `${name} to answer /health/live`,
        async () => (await fetch(`http://127.0.0.1:${ports[name]}/health/live`).catch(() => undefined))?.ok,
        {
          timeoutMs: 60_000,
        },
      );
    }

    work = mkdtempSync(path.join(os.tmpdir(), 'osa-prometheus-'));
    renderRulesForTest(path.join(work, 'rules.yaml'));
    writeFileSync(
      path.join(work, 'prometheus.yml'),
      stringifyYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [path.join(work, 'rules.yaml')],
        scrape_configs: [
          { job_name: 'osa-ingest', metrics_path: '/metrics', static_configs: [{ targets: SERVICES.map((s) => `127.0.0.1:${ports[s]}`) }] },
        ],
      }),
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      binary,
      [
        `--config.file=${path.join(work, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(work, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
    prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
    const child = prometheus;
    prometheusExited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      `Prometheus to be ready (log:\n${prometheusLog.slice(-2000)})`,
      async () => (await fetch(`${api}/-/ready`).catch(() => undefined))?.ok,
      {
        timeoutMs: 30_000,
      },
    );
  }, 300_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await prometheusExited;
    }
    if (work) rmSync(work, { recursive: true, force: true });
    // SIGTERM: each service stops the containers it supervises (the hook that hangs) as it exits.
    for (const name of SERVICES) await harness?.kill(name, 'SIGTERM');
    await harness?.stop();
  }, 120_000);

  const alerts = async () => (await getJson<{ data: { alerts: PrometheusAlert[] } }>(`${api}/api/v1/alerts`)).data.alerts;
  const query = async (expr: string) =>
    getJson<{ status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
      `${api}/api/v1/query?query=${encodeURIComponent(expr)}`,
    );

  it('scrapes every service, and nothing is stuck while no run is active', async () => {
    await waitFor(
      'every service to be scraped up',
      async () =>
        (await query('up{job="osa-ingest"} == 1')).data.result.length === SERVICES.length &&
        (await query('osa_active_run_stalled_seconds')).data.result.length === SERVICES.length,
      { timeoutMs: 30_000 },
    );
    expect((await query('max(osa_active_run_stalled_seconds)')).data.result[0]!.value[1]).toBe('0');
    expect((await alerts()).filter((a) => a.labels.alertname === 'OsaRunStuck')).toEqual([]);
    // The services serve the container metrics too (they count from the first run on).
    const text = await (await fetch(`http://127.0.0.1:${ports['hook-runner']}/metrics`)).text();
    for (const name of ['osa_container_runs_total', 'osa_memory_escalations_total', 'osa_bisections_total', 'osa_active_run_stalled_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('fires OsaRunStuck for a run whose hook hangs', async () => {
    await harness.applyConvention({
      id: 'hangs',
      ingester: { command: ['node', fixture('counting-ingester.mjs')], config: { total: 3, page_size: 10 } },
      hooks: [
        {
          name: 'hangs',
          command: ['node', fixture('flag-hook.mjs')],
          // Sleeps far past the alert; bounded so that nothing outlives the test for long.
          config: { sleep_ms: 120_000, marker_dir: harness.markerDir },
          limits: { timeout_seconds: 600 },
        },
      ],
    });
    const runId = await harness.start('hangs');
    await harness.waitForMarker(`hook-${runId}-0-`);

    const firing = await waitFor(
      `OsaRunStuck to fire (Prometheus log:\n${prometheusLog.slice(-2000)})`,
      async () => (await alerts()).find((a) => a.labels.alertname === 'OsaRunStuck' && a.state === 'firing'),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(firing.labels).toEqual({ alertname: 'OsaRunStuck', severity: 'critical' });
    expect(Number(firing.value)).toBeGreaterThan(STUCK_AFTER_SECONDS);
    expect(firing.annotations.summary).toBe('An active ingest run has made no ledger progress for 30 minutes');
    // The run is indeed where the hook left it: sourced, never hooked.
    const run = await harness.reads.findRun(runId);
    expect(run).toMatchObject({ status: 'running', batchesPublished: 0, batchesFailed: 0 });

    const out = path.join(ROOT, 'test-output/monitoring');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'stuck-run-alert.json'), `${JSON.stringify(firing, null, 2)}\n`);
  });

  it("evaluates every query of the Grafana dashboard (valid PromQL over the services' series)", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const failures: string[] = [];
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const concrete = expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m');
        const answer = await query(concrete).catch((err: Error) => ({ status: err.message }));
        if (answer.status !== 'success') failures.push(`${panel.title}: ${concrete}: ${answer.status}`);
      }
    }
    expect(failures).toEqual([]);
    // Series that exist now: the run and the container counters of the ingester's run.
    expect((await query('max(osa_active_runs)')).data.result[0]!.value[1]).toBe('1');
    expect((await query('sum(osa_container_runs_total{stage="ingester", outcome="succeeded"})')).data.result[0]?.value[1]).toBe('1');
  });
});
