import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RULES_FILE = path.join(ROOT, 'k8s/monitoring/osa-ingest.rules.yaml');
export const PROMETHEUS_RULE_FILE = path.join(ROOT, 'k8s/monitoring/prometheus-rule.yaml');
export const DASHBOARD_FILE = path.join(ROOT, 'k8s/monitoring/grafana-dashboard.json');

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroups {
  groups: Array<{ name: string; rules: AlertingRule[] }>;
}

export const readRules = (file = RULES_FILE): RuleGroups => parseYaml(readFileSync(file, 'utf8')) as RuleGroups;

/**
 * The path of a Prometheus binary (`prometheus`, `promtool`). The suites never skip without them:
 * CI installs Debian's `prometheus` package, which brings both.
 */
export function prometheusBinary(name: 'prometheus' | 'promtool'): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const binary = found.stdout.trim();
  if (found.status !== 0 || !binary) {
    throw new Error(`${name} is not installed: install Debian's prometheus package (apt-get install prometheus), as .ci/run does`);
  }
  return binary;
}

/** Runs promtool; its exit status and everything it printed. */
export function promtool(args: string[], cwd = ROOT): { status: number; output: string } {
  const result = spawnSync(prometheusBinary('promtool'), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

export function promtoolVersion(): string {
  return execFileSync(prometheusBinary('promtool'), ['--version'], { encoding: 'utf8' }).split('\n')[0]!;
}
