import type { AppConfig } from '#osa/config';
import { type ContainerRunner, LocalProcessRunner } from '#osa/runners';

/** The runner the configuration names; the Kubernetes runner is loaded only when asked for. */
export async function createRunner(config: AppConfig): Promise<ContainerRunner> {
  if (config.runner === 'local') {
    return new LocalProcessRunner({
      dataDir: config.dataDir,
      cwd: config.local.cwd,
      slots: config.local.slots,
      sampleIntervalMs: config.local.sampleIntervalMs,
    });
  }
  const kubernetes = (await import('#osa/runners')) as Record<string, unknown>;
  const factory = kubernetes.createKubernetesRunnerFromEnv as
    | ((env: Record<string, string | undefined>, dataDir: string) => ContainerRunner)
    | undefined;
  if (!factory) throw new Error('RUNNER=kubernetes is not available in this build');
  return factory(config.env, config.dataDir);
}
