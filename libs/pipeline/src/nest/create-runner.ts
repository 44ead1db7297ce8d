import type { AppConfig } from '#osa/config';
import {
  type ContainerRunner,
  createKubernetesApis,
  KubernetesJobRunner,
  kubeConfigForServer,
  kubeConfigFromEnv,
  LocalProcessRunner,
  parseKubernetesRunnerConfig,
} from '#osa/runners';

/**
 * The runner the configuration names. For Kubernetes, credentials come from KUBECONFIG or the
 * in-cluster service account, or from `K8S_API_SERVER` (an explicit API server URL, e.g. the
 * test simulator); the data volume is mounted at DATA_DIR unless K8S_DATA_MOUNT_PATH says otherwise.
 */
export function createRunner(config: AppConfig): ContainerRunner {
  if (config.runner === 'local') {
    return new LocalProcessRunner({
      dataDir: config.dataDir,
      cwd: config.local.cwd,
      slots: config.local.slots,
      sampleIntervalMs: config.local.sampleIntervalMs,
    });
  }
  const env: Record<string, string | undefined> = { K8S_DATA_MOUNT_PATH: config.dataDir, ...config.env };
  const server = env.K8S_API_SERVER;
  const kubeConfig = server ? kubeConfigForServer(server) : kubeConfigFromEnv(env);
  return new KubernetesJobRunner(parseKubernetesRunnerConfig(env), createKubernetesApis(kubeConfig));
}
