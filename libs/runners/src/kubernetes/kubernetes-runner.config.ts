import { z } from 'zod';
import { parseImagePrefixes } from '#osa/domain';

const int = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);

/**
 * The Kubernetes runner's settings as environment variables, with their defaults. Parse with
 * {@link parseKubernetesRunnerConfig}, whose errors name the variable.
 */
export const kubernetesRunnerEnvSchema = z.object({
  /** Namespace the Jobs run in. @defaultValue "osa-ingest" */
  K8S_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name (lowercase letters, digits, "-")')
    .default('osa-ingest'),
  /** PersistentVolumeClaim holding DATA_DIR, mounted into every Job by sub-path. @defaultValue "osa-ingest-data" */
  K8S_DATA_PVC: z.string().min(1).default('osa-ingest-data'),
  /** Where the service pods mount that claim (their DATA_DIR); request dirs are relative to it. */
  K8S_DATA_MOUNT_PATH: z.string().min(1, 'must be the path where the service pods mount the data PVC'),
  /** Comma-separated names of image pull secrets. @defaultValue none */
  K8S_IMAGE_PULL_SECRETS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Service account of Job pods; its token is never mounted. @defaultValue the namespace default */
  K8S_JOB_SERVICE_ACCOUNT: z.string().min(1).optional(),
  /**
   * Safety net: finished Jobs the runner could not delete are removed after this. At least 60 s:
   * a Job the TTL controller removes before the runner has read its outcome counts as vanished
   * and its container is run again. @defaultValue 3600
   */
  K8S_JOB_TTL_SECONDS: int(3600, 60),
  /** How long a pod may stay Unschedulable before the run fails as transient. @defaultValue 600 */
  K8S_SCHEDULING_TIMEOUT_SECONDS: int(600, 1),
  /** How often Job and pod status are polled. @defaultValue 2000 */
  K8S_POLL_INTERVAL_MS: int(2000, 1),
  /** How many of the pod's last log lines errors carry. @defaultValue 50 */
  K8S_LOG_TAIL_LINES: int(50, 1),
  /** Comma-separated prefixes every Job's image must match (the services' own setting). @defaultValue any image */
  ALLOWED_IMAGE_PREFIXES: z.string().optional().transform(parseImagePrefixes),
});

/** Settings of {@link KubernetesJobRunner}, in code form. */
export interface KubernetesRunnerConfig {
  namespace: string;
  dataPvc: string;
  dataMountPath: string;
  imagePullSecrets: string[];
  serviceAccount?: string;
  ttlSecondsAfterFinished: number;
  schedulingTimeoutSeconds: number;
  pollIntervalMs: number;
  logTailLines: number;
  /** A Job is never created for an image outside these (empty: any image). */
  allowedImagePrefixes?: string[];
}

/** Parses the K8S_* variables; throws one Error listing every bad variable by name. */
export function parseKubernetesRunnerConfig(env: Record<string, string | undefined>): KubernetesRunnerConfig {
  const parsed = kubernetesRunnerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`invalid Kubernetes runner configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    namespace: e.K8S_NAMESPACE,
    dataPvc: e.K8S_DATA_PVC,
    dataMountPath: e.K8S_DATA_MOUNT_PATH,
    imagePullSecrets: e.K8S_IMAGE_PULL_SECRETS,
    serviceAccount: e.K8S_JOB_SERVICE_ACCOUNT,
    ttlSecondsAfterFinished: e.K8S_JOB_TTL_SECONDS,
    schedulingTimeoutSeconds: e.K8S_SCHEDULING_TIMEOUT_SECONDS,
    pollIntervalMs: e.K8S_POLL_INTERVAL_MS,
    logTailLines: e.K8S_LOG_TAIL_LINES,
    allowedImagePrefixes: e.ALLOWED_IMAGE_PREFIXES,
  };
}
