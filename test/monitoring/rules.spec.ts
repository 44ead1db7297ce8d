import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PROMETHEUS_RULE_FILE, promtool, promtoolVersion, readRules, ROOT, RULES_FILE } from './prometheus-tools.js';

const RULE_TESTS = path.join(ROOT, 'test/monitoring/osa-ingest.rules.test.yaml');

interface RuleTests {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const ALERTS = [
  'OsaRunStuck',
  'OsaBatchFailureRatioHigh',
  'OsaBackpressureWaitNearMax',
  'OsaFailureBreakerTripped',
  'OsaQueueBacklogGrowing',
  'OsaJobsFailedFinally',
  'OsaServiceDown',
  'OsaServiceNotReady',
];

/** Alerting rules checked and unit-tested by the real promtool (Debian's prometheus package). */
describe('alerting rules (promtool)', () => {
  const rules = readRules();
  const alerts = rules.groups.flatMap((g) => g.rules);

  it('are the alerts operators are promised, each with a severity, a summary and a description', () => {
    expect(alerts.map((r) => r.alert)).toEqual(ALERTS);
    for (const rule of alerts) {
      expect([rule.alert, ['critical', 'warning', 'info'].includes(rule.labels?.severity ?? '')]).toEqual([rule.alert, true]);
      expect([rule.alert, Boolean(rule.annotations?.summary && rule.annotations.description)]).toEqual([rule.alert, true]);
    }
  });

  it('pass promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', RULES_FILE]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${ALERTS.length} rules found`) });
    expect(promtoolVersion()).toMatch(/^promtool, version \d+\./);
  });

  it('pass promtool test rules, with series that make every alert fire and series that must not', () => {
    const cases = parseYaml(readFileSync(RULE_TESTS, 'utf8')) as RuleTests;
    const evaluations = cases.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of ALERTS) {
      const own = evaluations.filter((e) => e.alertname === alert);
      expect([alert, own.some((e) => e.exp_alerts.length > 0), own.some((e) => e.exp_alerts.length === 0)]).toEqual([alert, true, true]);
    }
    const { status, output } = promtool(['test', 'rules', RULE_TESTS]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('the promtool cases catch an alert that never fires (each rule in turn)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'osa-rules-'));
    try {
      for (const alert of ALERTS) {
        const broken = readRules();
        for (const rule of broken.groups.flatMap((g) => g.rules)) if (rule.alert === alert) rule.expr = 'vector(0) > 1';
        const rulesFile = path.join(dir, `${alert}.rules.yaml`);
        writeFileSync(rulesFile, stringifyYaml(broken));
        const cases = parseYaml(readFileSync(RULE_TESTS, 'utf8')) as RuleTests;
        cases.rule_files = [rulesFile];
        const testFile = path.join(dir, `${alert}.test.yaml`);
        writeFileSync(testFile, stringifyYaml(cases));
        const { status, output } = promtool(['test', 'rules', testFile]);
        expect([alert, status === 0]).toEqual([alert, false]);
        expect(output).toContain(`alertname: ${alert}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are the same groups in the PrometheusRule for the Prometheus Operator', () => {
    const rule = parseYaml(readFileSync(PROMETHEUS_RULE_FILE, 'utf8')) as { kind: string; spec: unknown };
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec).toEqual(rules);
  });
});
