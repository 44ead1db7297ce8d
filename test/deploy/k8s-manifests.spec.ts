import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Container, V1Deployment, V1EnvVar, V1NetworkPolicy, V1PodSpec, V1Role, V1RoleBinding, V1Service } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { envSchema } from '#osa/config';
import { dashboardEnvSchema, loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';
import { buildJob, kubernetesRunnerEnvSchema, parseKubernetesRunnerConfig } from '#osa/runners-kubernetes';
import { schemaErrors } from './k8s-schema.js';
import { containersOf, type K8sObject, renderKustomization } from './kustomize.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BASE = path.join(ROOT, 'k8s/base');
const OVERLAY = path.join(ROOT, 'k8s/overlays/example');

const IMAGE = 'ghcr.io/osa-ingest/osa-ingest';
const SECRET = 'osa-ingest-secrets';
const SECRET_KEYS = ['DATABASE_URL', 'REDIS_URL', 'API_TOKEN', 'SESSION_SECRET', 'API_TOKENS'];
const APPS = { 'ingester-runner': 3001, 'hook-runner': 3002, publisher: 3003, dashboard: 3000 } as const;
type App = keyof typeof APPS;
const RUNNERS: App[] = ['ingester-runner', 'hook-runner'];
const STAGES: App[] = ['ingester-runner', 'hook-runner', 'publisher'];
const K8S_VARS = [
  'K8S_NAMESPACE',
  'K8S_DATA_PVC',
  'K8S_DATA_MOUNT_PATH',
  'K8S_IMAGE_PULL_SECRETS',
  'K8S_JOB_SERVICE_ACCOUNT',
  'K8S_JOB_TTL_SECONDS',
  'K8S_SCHEDULING_TIMEOUT_SECONDS',
];
const COMMON_VARS = ['REDIS_URL', 'DATABASE_URL', 'DATA_DIR', 'RUNNER', 'QUEUE_PREFIX', 'LOG_LEVEL', 'PORT', 'SHUTDOWN_GRACE_SECONDS'];
const REQUIRED_VARS: Record<App, string[]> = {
  'ingester-runner': [...COMMON_VARS, 'INGESTER_CONCURRENCY', ...K8S_VARS],
  'hook-runner': [...COMMON_VARS, 'HOOK_CONCURRENCY', ...K8S_VARS],
  publisher: [...COMMON_VARS, 'PUBLISHER_CONCURRENCY'],
  dashboard: [...COMMON_VARS, 'API_TOKEN', 'SESSION_SECRET'],
};
/** Stand-ins for Secret values, so the effective environment can be parsed by the apps' own schemas. */
const SAMPLE_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://osa@postgres:5432/osa_ingest',
  REDIS_URL: 'redis://redis:6379',
  API_TOKEN: 'x'.repeat(24),
  SESSION_SECRET: 's'.repeat(32),
};
const EXPECTED_RULES = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: ['batch'], resources: ['jobs/status'], verbs: ['get'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
];

const find = <T = K8sObject>(objs: K8sObject[], kind: string, name: string): T => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return o as unknown as T;
};
const podOf = (d: V1Deployment): V1PodSpec => d.spec!.template.spec!;
const mainContainer = (d: V1Deployment, app: App): V1Container => podOf(d).containers.find((c) => c.name === app)!;
const configMapOf = (objs: K8sObject[]) => objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('osa-ingest-config'))!;

/** The environment a container gets; Secret and downward-API values become markers or samples. */
function effectiveEnv(objs: K8sObject[], c: V1Container, namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const cm = find(objs, 'ConfigMap', from.configMapRef!.name!);
    Object.assign(env, cm.data as Record<string, string>);
  }
  for (const e of c.env ?? []) {
    // An optional key the sample Secret lacks is simply absent, as in a cluster.
    if (e.valueFrom?.secretKeyRef?.optional && !(e.valueFrom.secretKeyRef.key in SAMPLE_SECRETS)) continue;
    env[e.name] = valueOf(e, namespace);
  }
  return env;
}
function valueOf(e: V1EnvVar, namespace: string): string {
  if (e.value !== undefined) return e.value;
  const secret = e.valueFrom?.secretKeyRef;
  if (secret) return SAMPLE_SECRETS[secret.key] ?? `<missing sample for ${secret.key}>`;
  if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') return namespace;
  throw new Error(`env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
}

/** `kubectl kustomize DIR`, or why it cannot be used (no kubectl, or an embedded kustomize < 5). */
function kubectlKustomize(dir: string): K8sObject[] | string {
  let version: string;
  try {
    version = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return 'kubectl not found';
  }
  // Debian's kubectl 1.20 embeds kustomize 2, which lacks `labels`: its output would not be kustomize 5's.
  const major = Number(/Kustomize Version: v?(\d+)/.exec(version)?.[1] ?? 0);
  if (major < 5) return `kubectl's kustomize is older than v5 (${version.replace(/\s+/g, ' ').trim()})`;
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return out
    .split(/^---$/m)
    .map((doc) => doc.trim())
    .filter(Boolean)
    .map((doc) => JSON.parse(JSON.stringify(parseYaml(doc))) as K8sObject);
}
/** Generated names carry a content hash; compare the content, not the exact hash algorithm. */
const normalise = (objs: K8sObject[]) =>
  JSON.parse(JSON.stringify(objs).replace(/osa-ingest-config-[a-z0-9]{10}/g, 'osa-ingest-config-HASH')) as K8sObject[];
const byId = (objs: K8sObject[]) => Object.fromEntries(objs.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));

describe.each([
  ['base', BASE],
  ['example overlay', OVERLAY],
])('k8s %s', (_label, dir) => {
  const objs = renderKustomization(dir);
  const ns = 'osa-ingest';
  const deployment = (app: App) => find<V1Deployment>(objs, 'Deployment', app);

  it('renders the same objects as kubectl kustomize (when kubectl is installed)', () => {
    expect(objs.length).toBeGreaterThan(10);
    const theirs = kubectlKustomize(dir);
    if (typeof theirs === 'string') {
      console.warn(`${theirs}: not compared with kubectl kustomize for ${dir} (the renderer's output is still checked by every other test)`);
      return;
    }
    expect(byId(normalise(objs))).toEqual(byId(normalise(theirs)));
    // The renderer reproduces kustomize 5.5's hash too; a later kustomize may hash differently.
    if (configMapOf(objs).metadata.name !== configMapOf(theirs).metadata.name) console.warn('kubectl kustomize hashes the ConfigMap differently');
  });

  it('validates every object against the Kubernetes schema of its kind, with no unknown fields', () => {
    expect(objs.flatMap(schemaErrors)).toEqual([]);
  });

  it('puts every namespaced object in the osa-ingest namespace and commits no Secret', () => {
    expect(find(objs, 'Namespace', ns)).toBeDefined();
    for (const o of objs) if (o.kind !== 'Namespace') expect([o.kind, o.metadata.namespace]).toEqual([o.kind, ns]);
    expect(objs.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('grants the runner service account exactly jobs, jobs/status, pods and pods/log, with no wildcard', () => {
    expect(objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const roles = objs.filter((o) => o.kind === 'Role') as unknown as V1Role[];
    expect(roles.map((r) => r.metadata!.name)).toEqual(['osa-ingest-runner']);
    expect(roles[0]!.rules).toEqual(EXPECTED_RULES);
    expect(JSON.stringify(roles)).not.toContain('*');
    const bindings = objs.filter((o) => o.kind === 'RoleBinding') as unknown as V1RoleBinding[];
    expect(bindings.map((b) => [b.roleRef, b.subjects])).toEqual([
      [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'osa-ingest-runner' },
        [{ kind: 'ServiceAccount', name: 'osa-ingest-runner', namespace: ns }],
      ],
    ]);
  });

  it('gives only the two runners the API service account; other pods get no token', () => {
    const noApi = find(objs, 'ServiceAccount', 'osa-ingest-noapi');
    expect(noApi.automountServiceAccountToken).toBe(false);
    for (const app of Object.keys(APPS) as App[]) {
      const pod = podOf(deployment(app));
      if (RUNNERS.includes(app)) expect([app, pod.serviceAccountName]).toEqual([app, 'osa-ingest-runner']);
      else expect([app, pod.serviceAccountName, pod.automountServiceAccountToken]).toEqual([app, 'osa-ingest-noapi', false]);
    }
  });

  it('permits every Kubernetes API call the runner code makes', () => {
    const dirK8s = path.join(ROOT, 'libs/runners/src/kubernetes');
    const calls = new Set<string>();
    for (const f of readdirSync(dirK8s).filter((n) => n.endsWith('.ts') && !n.includes('.spec.') && !n.includes('harness'))) {
      for (const m of readFileSync(path.join(dirK8s, f), 'utf8').matchAll(/\.(batch|core)\.(\w+)\(/g)) calls.add(m[2]!);
    }
    expect(calls.size).toBeGreaterThan(3);
    const rules = find<V1Role>(objs, 'Role', 'osa-ingest-runner').rules!;
    for (const call of calls) {
      const need = API_CALLS[call];
      if (!need) throw new Error(`runner calls ${call}: add its RBAC need to API_CALLS in this test (and the Role if new)`);
      const [group, resource, verb] = need;
      expect([call, rules.some((r) => r.apiGroups!.includes(group) && r.resources!.includes(resource) && r.verbs.includes(verb))]).toEqual([
        call,
        true,
      ]);
    }
  });

  it('denies all ingress and egress to hook pods (osa.io/network: none), and the runner labels hook Jobs so', () => {
    const np = objs.find((o) => o.kind === 'NetworkPolicy') as unknown as V1NetworkPolicy;
    expect(np.spec!.podSelector).toEqual({ matchLabels: { 'osa.io/network': 'none' } });
    expect([...np.spec!.policyTypes!].sort()).toEqual(['Egress', 'Ingress']);
    expect(np.spec!.egress ?? []).toEqual([]);
    expect(np.spec!.ingress ?? []).toEqual([]);

    // The Jobs the runner would build from this very configuration.
    const env = effectiveEnv(objs, mainContainer(deployment('hook-runner'), 'hook-runner'), ns);
    const config = parseKubernetesRunnerConfig(env);
    const job = (role: 'hook' | 'ingester') =>
      buildJob({
        request: {
          role,
          runId: 'run-1',
          batchIndex: 0,
          attempt: 1,
          hook: role === 'hook' ? 'check' : undefined,
          image: 'example/img:1',
          command: ['node', 'x.mjs'],
          limits: { timeout_seconds: 60, memory: '256m', cpu: '0.5' },
          env: {},
          dirs: { in: 'runs/a/in', out: 'runs/a/out', files: 'runs/a/files' },
        },
        memoryBytes: 256 * 1024 ** 2,
        dirs: { in: 'runs/a/in', out: 'runs/a/out', files: 'runs/a/files' },
        spec: 'abc',
        config,
      });
    const selected = (role: 'hook' | 'ingester') =>
      Object.entries(np.spec!.podSelector!.matchLabels!).every(([k, v]) => job(role).spec!.template.metadata!.labels![k] === v);
    expect(selected('hook')).toBe(true);
    expect(selected('ingester')).toBe(false);
    const hookJob = { ...job('hook'), metadata: { ...job('hook').metadata!, namespace: config.namespace } } as unknown as K8sObject;
    expect(schemaErrors(hookJob)).toEqual([]);
    // The Job's service account, claim and namespace exist in these manifests.
    expect(find(objs, 'ServiceAccount', job('hook').spec!.template.spec!.serviceAccountName!).automountServiceAccountToken).toBe(false);
    expect(find(objs, 'PersistentVolumeClaim', config.dataPvc)).toBeDefined();
    expect(config.namespace).toBe(ns);
    expect(config.dataMountPath).toBe(env.DATA_DIR);
  });

  it('claims the shared data volume ReadWriteMany and mounts it at DATA_DIR in the three stage services only', () => {
    const pvc = find(objs, 'PersistentVolumeClaim', 'osa-ingest-data');
    expect((pvc.spec as { accessModes: string[] }).accessModes).toEqual(['ReadWriteMany']);
    for (const app of Object.keys(APPS) as App[]) {
      const d = deployment(app);
      const env = effectiveEnv(objs, mainContainer(d, app), ns);
      const claim = podOf(d).volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
      const mount = mainContainer(d, app).volumeMounts?.find((m) => m.mountPath === env.DATA_DIR);
      if (STAGES.includes(app)) {
        expect([app, claim, mount?.readOnly ?? false, env.DATA_DIR]).toEqual([app, 'osa-ingest-data', false, '/data']);
        expect(podOf(d).volumes!.find((v) => v.name === mount!.name)?.persistentVolumeClaim?.claimName).toBe('osa-ingest-data');
      } else expect([app, claim]).toEqual([app, undefined]);
      if (RUNNERS.includes(app)) expect([env.K8S_DATA_PVC, env.K8S_DATA_MOUNT_PATH]).toEqual([pvc.metadata.name, env.DATA_DIR]);
    }
  });

  it('runs each app from the one image, with probes, resources, a migrate init container and hardened containers', () => {
    for (const [app, port] of Object.entries(APPS) as Array<[App, number]>) {
      const d = deployment(app);
      const pod = podOf(d);
      const main = mainContainer(d, app);
      expect(main.args).toEqual([`dist/apps/${app}/src/main.js`]);
      expect(existsSync(path.join(ROOT, `apps/${app}/src/main.ts`))).toBe(true);
      expect(main.ports).toEqual([{ name: 'http', containerPort: port }]);
      expect(effectiveEnv(objs, main, ns).PORT).toBe(String(port));
      for (const [probe, p] of [
        ['livenessProbe', '/health/live'],
        ['readinessProbe', '/health/ready'],
        ['startupProbe', '/health/live'],
      ] as const) {
        expect([app, probe, main[probe]?.httpGet?.path, main[probe]?.httpGet?.port]).toEqual([app, probe, p, 'http']);
      }
      expect(pod.initContainers!.map((c) => [c.name, c.args])).toEqual([['migrate', ['dist/tools/cli/main.js', 'migrate']]]);
      expect(pod.initContainers![0]!.env!.map((e) => e.name)).toContain('DATABASE_URL');

      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.hostNetwork ?? false).toBe(false);
      for (const c of containersOf(d as unknown as K8sObject) as unknown as V1Container[]) {
        expect([app, c.name, c.image!.split(/[:@]/)[0]]).toEqual([app, c.name, IMAGE]);
        expect([app, c.name, c.securityContext]).toEqual([
          app,
          c.name,
          { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        ]);
        for (const kind of ['requests', 'limits'] as const) {
          expect([app, c.name, kind, Object.keys(c.resources?.[kind] ?? {}).sort()]).toEqual([app, c.name, kind, ['cpu', 'memory']]);
        }
      }
      // A read-only root filesystem needs a writable /tmp.
      expect(main.volumeMounts!.map((m) => m.mountPath)).toContain('/tmp');
    }
  });

  it('gives every app the environment it needs, valid for the apps own config schemas', () => {
    const known = new Set([
      ...Object.keys(envSchema.shape),
      ...Object.keys(kubernetesRunnerEnvSchema.shape),
      ...Object.keys(dashboardEnvSchema.shape),
    ]);
    expect(Object.keys(configMapOf(objs).data as object).filter((k) => !known.has(k))).toEqual([]);
    for (const app of Object.keys(APPS) as App[]) {
      const main = mainContainer(deployment(app), app);
      const env = effectiveEnv(objs, main, ns);
      expect([app, REQUIRED_VARS[app].filter((v) => !(v in env))]).toEqual([app, []]);
      expect(envSchema.safeParse(env).error?.issues ?? []).toEqual([]);
      expect(env.RUNNER).toBe('kubernetes');
      if (RUNNERS.includes(app)) expect(kubernetesRunnerEnvSchema.safeParse(env).error?.issues ?? []).toEqual([]);
      if (app === 'dashboard') expect(loadDashboardEnv(env).ignored).toEqual([]);
      // Secrets come from the Secret, by key, and only where needed.
      const fromSecret = main.env!.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom!.secretKeyRef!);
      for (const ref of fromSecret) expect([ref.name, SECRET_KEYS.includes(ref.key)]).toEqual([SECRET, true]);
      expect(fromSecret.map((r) => r.key).sort()).toEqual(app === 'dashboard' ? [...SECRET_KEYS].sort() : ['DATABASE_URL', 'REDIS_URL']);
      expect(Object.keys(configMapOf(objs).data as object).filter((k) => SECRET_KEYS.includes(k))).toEqual([]);
    }
  });

  it('lets every app finish its active jobs before SIGKILL: grace period > SHUTDOWN_GRACE_SECONDS + 10 s', () => {
    for (const app of Object.keys(APPS) as App[]) {
      const d = deployment(app);
      const grace = Number(effectiveEnv(objs, mainContainer(d, app), ns).SHUTDOWN_GRACE_SECONDS);
      expect(grace).toBeGreaterThan(0);
      expect([app, podOf(d).terminationGracePeriodSeconds! > grace + 10]).toEqual([app, true]);
    }
  });

  it('exposes the dashboard through a Service that selects its pods', () => {
    const svc = find<V1Service>(objs, 'Service', 'dashboard');
    const labels = deployment('dashboard').spec!.template.metadata!.labels!;
    expect(Object.entries(svc.spec!.selector!).every(([k, v]) => labels[k] === v)).toBe(true);
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    expect(objs.filter((o) => o.kind === 'Service')).toHaveLength(1);
  });
});

/** What each client-node call needs: [apiGroup, resource, verb]. */
const API_CALLS: Record<string, [string, string, string]> = {
  createNamespacedJob: ['batch', 'jobs', 'create'],
  readNamespacedJob: ['batch', 'jobs', 'get'],
  readNamespacedJobStatus: ['batch', 'jobs/status', 'get'],
  listNamespacedJob: ['batch', 'jobs', 'list'],
  deleteNamespacedJob: ['batch', 'jobs', 'delete'],
  readNamespacedPod: ['', 'pods', 'get'],
  listNamespacedPod: ['', 'pods', 'list'],
  readNamespacedPodLog: ['', 'pods/log', 'get'],
};

describe('k8s example overlay', () => {
  const base = renderKustomization(BASE);
  const overlay = renderKustomization(OVERLAY);
  const replicas = (objs: K8sObject[], app: App) => find<V1Deployment>(objs, 'Deployment', app).spec!.replicas;

  it('pins the image to a release tag or digest', () => {
    for (const d of overlay.filter((o) => o.kind === 'Deployment')) {
      for (const c of containersOf(d))
        expect(String(c.image)).toMatch(/^ghcr\.io\/osa-ingest\/osa-ingest(:(?!latest$)[\w.-]+|@sha256:[a-f0-9]{64})$/);
    }
  });

  it('tunes replicas and concurrency, and the changed config gets a new ConfigMap name so pods roll', () => {
    expect([replicas(base, 'hook-runner'), replicas(overlay, 'hook-runner'), replicas(overlay, 'publisher')]).toEqual([1, 2, 2]);
    expect((configMapOf(overlay).data as Record<string, string>).HOOK_CONCURRENCY).toBe('4');
    expect(configMapOf(overlay).metadata.name).not.toBe(configMapOf(base).metadata.name);
    const ref = mainContainer(find<V1Deployment>(overlay, 'Deployment', 'publisher'), 'publisher').envFrom![0]!.configMapRef!.name;
    expect(ref).toBe(configMapOf(overlay).metadata.name);
    expect(mainContainer(find<V1Deployment>(overlay, 'Deployment', 'publisher'), 'publisher').resources!.limits!.memory).toBe('1Gi');
  });
});

describe('test renderer', () => {
  it('refuses kustomization features it does not implement', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'kust-'));
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'namePrefix: x-\nresources: []\n');
    expect(() => renderKustomization(dir)).toThrow(/does not support namePrefix/);
  });

  it('rejects invalid objects (the schema checks are not vacuous)', () => {
    const good = find(renderKustomization(BASE), 'Deployment', 'publisher');
    const typo = JSON.parse(JSON.stringify(good).replace('"readinessProbe"', '"readynessProbe"')) as K8sObject;
    const wrongType = JSON.parse(JSON.stringify(good).replace('"replicas":1', '"replicas":"1"')) as K8sObject;
    expect(schemaErrors(good)).toEqual([]);
    expect(schemaErrors(typo).join()).toMatch(/unknown field "readynessProbe"/);
    expect(schemaErrors(wrongType).join()).toMatch(/replicas must be integer/);
    expect(schemaErrors({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toEqual([expect.stringMatching(/no schema registered/)]);
  });
});

describe('k8s monitoring (Prometheus Operator)', () => {
  const MONITORING = path.join(ROOT, 'k8s/monitoring');
  const objs = renderKustomization(MONITORING);
  const base = renderKustomization(BASE);

  it('renders the same objects as kubectl kustomize (when kubectl is installed)', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PodMonitor', 'PrometheusRule']);
    const theirs = kubectlKustomize(MONITORING);
    if (typeof theirs === 'string') {
      console.warn(`${theirs}: not compared with kubectl kustomize for ${MONITORING}`);
      return;
    }
    expect(byId(objs)).toEqual(byId(theirs));
  });

  it("validates every object against its schema (the operator's CRDs for its kinds), in the osa-ingest namespace", () => {
    expect(objs.flatMap(schemaErrors)).toEqual([]);
    for (const o of objs) expect([o.kind, o.metadata.namespace]).toEqual([o.kind, 'osa-ingest']);
  });

  it("scrapes /metrics on the named http port of every service's pods, and nothing else of ours", () => {
    const monitor = find<{ spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: object[] } }>(
      objs,
      'PodMonitor',
      'osa-ingest',
    );
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    const selected = (labels: Record<string, string> = {}) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => labels[k] === v);
    for (const app of Object.keys(APPS) as App[]) {
      const d = find<V1Deployment>(base, 'Deployment', app);
      expect([app, selected(d.spec!.template.metadata!.labels)]).toEqual([app, true]);
      expect(mainContainer(d, app).ports!.map((p) => p.name)).toContain('http');
    }
  });

  it('ships the alerting rules file as a PrometheusRule and the Grafana dashboard as a ConfigMap for the sidecar', () => {
    const rule = find(objs, 'PrometheusRule', 'osa-ingest');
    expect(rule.spec).toEqual(parseYaml(readFileSync(path.join(MONITORING, 'osa-ingest.rules.yaml'), 'utf8')));
    const dashboard = find(objs, 'ConfigMap', 'osa-ingest-grafana-dashboard');
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect((dashboard.data as Record<string, string>)['grafana-dashboard.json']).toBe(
      readFileSync(path.join(MONITORING, 'grafana-dashboard.json'), 'utf8'),
    );
  });
});
