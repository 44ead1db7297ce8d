import type { ContainerRunRequest } from '../port/container-runner.port.js';
import { jobLabels, jobName, labelValue, sameWorkSelector, specHash } from './job-naming.js';

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function request(overrides: Partial<ContainerRunRequest> = {}): ContainerRunRequest {
  return {
    role: 'hook',
    runId: '3f2a9c1e-7b4d-4e8a-9c1f-2d3e4f5a6b7c',
    batchIndex: 12,
    hook: 'check_schema',
    attempt: 3,
    image: 'ghcr.io/example/hook:1',
    command: ['x'],
    limits: { timeout_seconds: 300, memory: '256m', cpu: '0.5' },
    env: {},
    dirs: { in: 'a', out: 'b', files: 'c' },
    ...overrides,
  };
}

describe('jobName', () => {
  it('names hook Jobs osa-h-<hook>-<run8>-b<batch>-a<attempt>-<hash>', () => {
    expect(jobName(request(), 'spec')).toMatch(/^osa-h-check-schema-3f2a9c1e-b12-a3-[0-9a-f]{6}$/);
  });

  it('names ingester Jobs osa-i-<run8>-b<batch>-a<attempt>-<hash>', () => {
    expect(jobName(request({ role: 'ingester', hook: undefined }), 'spec')).toMatch(/^osa-i-3f2a9c1e-b12-a3-[0-9a-f]{6}$/);
  });

  it('is deterministic', () => {
    expect(jobName(request(), 'spec')).toBe(jobName(request(), 'spec'));
  });

  it('stays a DNS-1035 label of at most 63 characters for long hook names, batches and attempts', () => {
    const name = jobName(request({ hook: 'a_very_long_hook_name_that_goes_on_and_on', batchIndex: 123456, attempt: 9999 }), 'spec');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_1035);
  });

  it('keeps two hooks that differ only past the truncation point apart', () => {
    const a = jobName(request({ hook: 'a_very_long_hook_name_that_goes_on_and_on_1', batchIndex: 123456 }), 'spec');
    const b = jobName(request({ hook: 'a_very_long_hook_name_that_goes_on_and_on_2', batchIndex: 123456 }), 'spec');
    expect(a).not.toBe(b);
  });

  it('differs when the spec differs, so an OOM re-run with more memory gets its own Job', () => {
    const r = request();
    expect(jobName(r, specHash(r, 256 * 1024 ** 2))).not.toBe(jobName(r, specHash(r, 512 * 1024 ** 2)));
  });

  it('differs per sub-run step of the same attempt', () => {
    const step = (n: number) => ({ ...request(), step: n }) as ContainerRunRequest;
    expect(jobName(step(1), specHash(step(1), 1))).not.toBe(jobName(step(2), specHash(step(2), 1)));
  });
});

describe('labelValue', () => {
  it('keeps valid values as they are', () => {
    expect(labelValue('check_schema')).toBe('check_schema');
  });

  it('makes invalid or long values valid and unique with a hash', () => {
    const value = labelValue(`-${'x'.repeat(80)}/`);
    expect(value.length).toBeLessThanOrEqual(63);
    expect(value).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
  });
});

describe('jobLabels', () => {
  it('labels role, run, batch, hook, attempt and the no-network marker of hooks', () => {
    expect(jobLabels(request(), 's')).toEqual({
      'app.kubernetes.io/managed-by': 'osa-ingest',
      'osa.io/role': 'hook',
      'osa.io/run': '3f2a9c1e-7b4d-4e8a-9c1f-2d3e4f5a6b7c',
      'osa.io/batch': '12',
      'osa.io/hook': 'check_schema',
      'osa.io/attempt': '3',
      'osa.io/spec': 's',
      'osa.io/network': 'none',
    });
  });

  it('gives ingesters neither a hook label nor the no-network marker', () => {
    const labels = jobLabels(request({ role: 'ingester', hook: undefined }), 's');
    expect(labels).not.toHaveProperty(['osa.io/hook']);
    expect(labels).not.toHaveProperty(['osa.io/network']);
  });
});

describe('sameWorkSelector', () => {
  it('selects the same work across attempts', () => {
    expect(sameWorkSelector(request({ attempt: 1 }), 's')).toBe(sameWorkSelector(request({ attempt: 2 }), 's'));
    expect(sameWorkSelector(request(), 's')).not.toContain('osa.io/attempt');
  });
});
