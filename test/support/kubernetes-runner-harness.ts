import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerRunRequest } from '#osa/runners';
import { createKubernetesApis, kubeConfigForServer, KubernetesJobRunner, type KubernetesRunnerConfig } from '#osa/runners-kubernetes';
import { K8sApiSimulator, type K8sSimulatorOptions } from './k8s-simulator/index.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'k8s-simulator/fixtures');

/** Images the runner tests use, each mapped to a fixture script the simulator runs. */
export const Images = {
  ok: 'example.org/osa/ok:1',
  okWithFiles: 'example.org/osa/ok-files:1',
  exit3: 'example.org/osa/exit3:1',
  hog: 'example.org/osa/hog:1',
  hang: 'example.org/osa/hang:1',
  gated: 'example.org/osa/gated:1',
} as const;

const images = {
  [Images.ok]: ['node', path.join(fixtures, 'write-output.mjs')],
  [Images.okWithFiles]: ['node', path.join(fixtures, 'write-output.mjs'), '--files'],
  [Images.exit3]: ['node', path.join(fixtures, 'exit-with.mjs'), '3'],
  [Images.hog]: ['node', path.join(fixtures, 'allocate.mjs'), '400'],
  [Images.hang]: ['node', path.join(fixtures, 'hang.mjs')],
  [Images.gated]: ['node', path.join(fixtures, 'wait-for-file.mjs')],
};

export interface Harness {
  sim: K8sApiSimulator;
  runner: KubernetesJobRunner;
  dataRoot: string;
  config: KubernetesRunnerConfig;
  warnings: string[];
  /** Every API call the simulator received. */
  requests(): K8sApiSimulator['requests'];
  request(overrides?: Partial<ContainerRunRequest>): ContainerRunRequest;
  close(): Promise<void>;
}

/** A simulator on a fresh data dir and a runner pointed at it, polling fast. */
export async function startHarness(
  options: { simulator?: Partial<K8sSimulatorOptions>; config?: Partial<KubernetesRunnerConfig> } = {},
): Promise<Harness> {
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'osa-k8s-'));
  const sim = await K8sApiSimulator.start({ dataRoot, images: { ...images }, ...options.simulator });
  const config: KubernetesRunnerConfig = {
    namespace: 'osa-ingest',
    dataPvc: 'osa-ingest-data',
    dataMountPath: dataRoot,
    imagePullSecrets: [],
    ttlSecondsAfterFinished: 3600,
    schedulingTimeoutSeconds: 600,
    pollIntervalMs: 20,
    logTailLines: 50,
    ...options.config,
  };
  const warnings: string[] = [];
  const runner = new KubernetesJobRunner(config, createKubernetesApis(kubeConfigForServer(sim.url)), { warn: (m) => warnings.push(m) });
  let counter = 0;
  return {
    sim,
    runner,
    dataRoot,
    config,
    warnings,
    requests: () => sim.requests,
    request(overrides = {}) {
      const attempt = overrides.attempt ?? 1;
      const role = overrides.role ?? 'ingester';
      const root = `runs/3f2a9c1e-7b4d-4e8a-9c1f-${String(++counter).padStart(12, '0')}/b0/${role}/a${attempt}`;
      return {
        role,
        runId: '3f2a9c1e-7b4d-4e8a-9c1f-000000000001',
        batchIndex: 0,
        hook: role === 'hook' ? 'check_schema' : undefined,
        attempt,
        image: Images.ok,
        command: ['unused-by-kubernetes'],
        limits: { timeout_seconds: 60, memory: '256m', cpu: '0.5' },
        env: { OSA_RUN_ID: 'r', OSA_BATCH_INDEX: '0' },
        dirs: { in: `${root}/in`, out: `${root}/out`, files: `${root}/files` },
        ...overrides,
      };
    },
    async close() {
      await sim.close();
      await rm(dataRoot, { recursive: true, force: true });
    },
  };
}

/** Creates a request's input directory, as the stage services do before running a container. */
export async function prepareInput(h: Harness, request: ContainerRunRequest): Promise<string> {
  const dir = path.join(h.dataRoot, request.dirs.in);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** The error a run failed with; fails the test when the run succeeds. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the run to fail');
}
