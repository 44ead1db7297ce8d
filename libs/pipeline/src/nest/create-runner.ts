import type { LoggerService } from '@nestjs/common';
import type { AppConfig } from '#osa/config';
import { type ContainerRunner, LocalProcessRunner } from '#osa/runners';

/**
 * The runner the configuration names. The Kubernetes runner is loaded only when asked for (its
 * client costs ~80 MB). Its settings are the K8S_* variables of the configuration's environment
 * (the data volume mounted at DATA_DIR unless K8S_DATA_MOUNT_PATH says otherwise); its
 * credentials come from `K8S_API_SERVER` (an explicit API server URL, e.g. the test simulator),
 * KUBECONFIG or the in-cluster service account. What it reports without throwing (a failed
 * capacity check, a Job it could not delete) goes to `logger`: the service's own log.
 */
export async function createRunner(config: AppConfig, logger: LoggerService): Promise<ContainerRunner> {
  if (config.runner === 'local') {
    return new LocalProcessRunner({
      dataDir: config.dataDir,
      cwd: config.local.cwd,
      slots: config.local.slots,
      sampleIntervalMs: config.local.sampleIntervalMs,
    });
  }
  const k8s = await import('#osa/runners-kubernetes');
  const env: Record<string, string | undefined> = { K8S_DATA_MOUNT_PATH: config.dataDir, ...config.env };
  const server = env.K8S_API_SERVER;
  const kubeConfig = server ? k8s.kubeConfigForServer(server) : k8s.kubeConfigFromEnv(env);
  return new k8s.KubernetesJobRunner(k8s.parseKubernetesRunnerConfig(env), k8s.createKubernetesApis(kubeConfig), {
    warn: (msg, fields) => {
      logger.warn({ msg, ...fields });
    },
  });
}
