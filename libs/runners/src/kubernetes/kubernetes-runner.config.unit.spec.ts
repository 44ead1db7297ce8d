import { parseKubernetesRunnerConfig } from './kubernetes-runner.config.js';

describe('parseKubernetesRunnerConfig', () => {
  it('applies the defaults', () => {
    expect(parseKubernetesRunnerConfig({ K8S_DATA_MOUNT_PATH: '/data' })).toEqual({
      namespace: 'osa-ingest',
      dataPvc: 'osa-ingest-data',
      dataMountPath: '/data',
      imagePullSecrets: [],
      serviceAccount: undefined,
      ttlSecondsAfterFinished: 3600,
      schedulingTimeoutSeconds: 600,
      pollIntervalMs: 2000,
      logTailLines: 50,
      allowedImagePrefixes: [],
    });
  });

  it('reads every variable', () => {
    const config = parseKubernetesRunnerConfig({
      K8S_NAMESPACE: 'ingest',
      K8S_DATA_PVC: 'pvc',
      K8S_DATA_MOUNT_PATH: '/data',
      K8S_IMAGE_PULL_SECRETS: 'a, b,',
      K8S_JOB_SERVICE_ACCOUNT: 'jobs',
      K8S_JOB_TTL_SECONDS: '60',
      K8S_SCHEDULING_TIMEOUT_SECONDS: '30',
      K8S_POLL_INTERVAL_MS: '20',
      K8S_LOG_TAIL_LINES: '10',
    });
    expect(config).toMatchObject({ namespace: 'ingest', imagePullSecrets: ['a', 'b'], serviceAccount: 'jobs', pollIntervalMs: 20, logTailLines: 10 });
  });

  it('names the variable in its errors', () => {
    expect(() => parseKubernetesRunnerConfig({ K8S_DATA_MOUNT_PATH: '/d', K8S_POLL_INTERVAL_MS: 'soon', K8S_NAMESPACE: 'Bad_NS' })).toThrow(
      /K8S_NAMESPACE: .*; K8S_POLL_INTERVAL_MS: /,
    );
    expect(() => parseKubernetesRunnerConfig({})).toThrow(/K8S_DATA_MOUNT_PATH/);
  });

  it('refuses a Job TTL short enough to remove a Job before its outcome is read', () => {
    expect(() => parseKubernetesRunnerConfig({ K8S_DATA_MOUNT_PATH: '/d', K8S_JOB_TTL_SECONDS: '0' })).toThrow(/K8S_JOB_TTL_SECONDS: /);
    expect(parseKubernetesRunnerConfig({ K8S_DATA_MOUNT_PATH: '/d', K8S_JOB_TTL_SECONDS: '60' }).ttlSecondsAfterFinished).toBe(60);
  });
});
