import { readFile, rm } from 'node:fs/promises';
import { createServer, request as httpsRequest, type RequestOptions, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { executePod, type Obj, PodStatus } from '#osa/testing';

/** Options of {@link NodeAgent.start}. */
export interface NodeAgentOptions {
  /** Credentials allowed to write nodes, leases and pod status (the test admin). */
  kubeConfig: KubeConfig;
  nodeName: string;
  /** Local directory standing in for the data PersistentVolumeClaim. */
  dataRoot: string;
  /** The claim whose mounts map onto dataRoot. */
  pvcName: string;
  /** What each image runs (argv); an unmapped image fails to pull. */
  images?: Record<string, readonly string[]>;
  /** Working directory of pod processes. */
  cwd: string;
  /** The Node's capacity and allocatable resources. */
  allocatable: { cpu: string; memory: string; pods: string };
  /** Directory holding the apiserver's self-signed apiserver.crt/.key, reused to serve pod logs. */
  certDir: string;
  /** How often pod memory is sampled. @defaultValue 50 */
  memorySampleIntervalMs?: number;
}

type Stop = 'deleted' | 'evicted';

interface RunningPod {
  namespace: string;
  name: string;
  abort: AbortController;
  stop?: Stop;
  /** The process has ended and its final status is written. */
  finished?: boolean;
  evictMessage?: string;
  logFile: string;
  done: Promise<void>;
}

const LEASE_SECONDS = 40;
const RESYNC_MS = 1000;

/**
 * What a kubelet does, for pods bound to one Node and without containers: registers the Node
 * (allocatable cpu/memory/pods, Ready) and renews its Lease; runs each pod's container as a
 * local process (the simulator's image→argv mapping, mounts mapped onto dataRoot, memory limit
 * enforced like the OOM killer) and reports it through pods/status; serves container logs on the
 * kubelet port so `pods/log` works through the apiserver; on deletion stops the process and
 * removes the pod with grace period 0. It never touches the Job controller's tracking finalizer.
 */
export class NodeAgent {
  private readonly core: CoreV1Api;
  private readonly pods = new Map<string, RunningPod>();
  private readonly heldImages = new Set<string>();
  private readonly images: Record<string, readonly string[]>;
  private readonly timers: NodeJS.Timeout[] = [];
  private watch?: AbortController;
  private server?: Server;
  private stopped = false;
  /** Problems the agent hit (failed status writes, …), for a test to show when it fails. */
  readonly errors: string[] = [];

  private constructor(private readonly options: NodeAgentOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.images = { ...options.images };
  }

  static async start(options: NodeAgentOptions): Promise<NodeAgent> {
    const agent = new NodeAgent(options);
    const port = await agent.serveLogs();
    await agent.register(port);
    await agent.renewLease();
    agent.timers.push(setInterval(() => void agent.renewLease().catch((e) => agent.note('lease renewal', e)), 10_000));
    await agent.startWatch();
    agent.timers.push(setInterval(() => void agent.resync().catch((e) => agent.note('resync', e)), RESYNC_MS));
    return agent;
  }

  /** Maps an image to the argv its pods run. */
  mapImage(image: string, argv: readonly string[]): void {
    this.images[image] = argv;
  }

  /** Pods of this image stay Pending with ErrImagePull / ImagePullBackOff, as for a missing image. */
  holdImagePull(image: string): void {
    this.heldImages.add(image);
  }

  /**
   * Evicts a running pod as the kubelet does under node pressure: kills the container, phase
   * Failed, reason Evicted, condition DisruptionTarget (TerminationByKubelet).
   */
  evict(namespace: string, name: string, message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi.'): void {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`node agent runs no pod ${namespace}/${name}`);
    pod.evictMessage = message;
    pod.stop ??= 'evicted';
    pod.abort.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    this.watch?.abort();
    for (const pod of this.pods.values()) {
      pod.stop ??= 'deleted';
      pod.abort.abort();
    }
    await Promise.allSettled([...this.pods.values()].map((p) => p.done));
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private note(what: string, err: unknown): void {
    if (this.stopped) return;
    const body = (err as { body?: unknown }).body;
    this.errors.push(`${what}: ${String(err)}${body ? ` ${(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 500)}` : ''}`);
  }

  private async register(port: number): Promise<void> {
    const { nodeName, allocatable } = this.options;
    const now = new Date();
    const cond = (type: string, status: string, reason: string) => ({ type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now });
    await this.core.createNode({
      body: {
        metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
      },
    });
    await this.core.replaceNodeStatus({
      name: nodeName,
      body: {
        metadata: { name: nodeName },
        status: {
          capacity: allocatable,
          allocatable,
          conditions: [
            cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
            cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
            cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
            cond('Ready', 'True', 'KubeletReady'),
          ],
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: nodeName },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
          nodeInfo: {
            architecture: 'amd64',
            bootID: '',
            containerRuntimeVersion: 'osa-node-agent://1',
            kernelVersion: '',
            kubeProxyVersion: '',
            kubeletVersion: 'v0.0.0-osa-node-agent',
            machineID: '',
            operatingSystem: 'linux',
            osImage: 'osa node agent',
            systemUUID: '',
          },
        },
      },
    });
  }

  /**
   * The node lifecycle controller taints a Node whose Lease is not renewed within its grace
   * period. Sent as raw JSON: renewTime is a MicroTime (six fractional digits), which
   * client-node's Date serialisation (milliseconds) does not produce.
   */
  private async renewLease(): Promise<void> {
    const name = this.options.nodeName;
    const base = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`;
    const renewTime = new Date().toISOString().replace(/Z$/, '000Z');
    const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_SECONDS, renewTime };
    const current = await this.raw('GET', `${base}/${name}`);
    if (current.status === 404) {
      const created = await this.raw('POST', base, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name }, spec });
      if (created.status >= 300) throw new Error(`creating the node Lease answered ${created.status}: ${created.text}`);
      return;
    }
    const lease = JSON.parse(current.text) as Obj;
    lease.spec = { ...lease.spec, ...spec };
    const replaced = await this.raw('PUT', `${base}/${name}`, lease);
    if (replaced.status >= 300) throw new Error(`renewing the node Lease answered ${replaced.status}: ${replaced.text}`);
  }

  private async raw(method: string, pathname: string, body?: Obj): Promise<{ status: number; text: string }> {
    const cluster = this.options.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the node agent kubeconfig has no current cluster');
    const url = new URL(pathname, cluster.server);
    const options: RequestOptions = { method, host: url.hostname, port: url.port, path: url.pathname, headers: { 'content-type': 'application/json' } };
    await this.options.kubeConfig.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body ? JSON.stringify(body) : undefined);
    });
  }

  private async startWatch(): Promise<void> {
    await this.resync();
    const watch = new Watch(this.options.kubeConfig);
    const restart = () => {
      // Watches end without notice; the periodic re-list covers the gap until it is back.
      if (!this.stopped) setTimeout(() => void this.startWatch().catch((e) => this.note('watch', e)), 500).unref();
    };
    this.watch = await watch.watch(
      '/api/v1/pods',
      { fieldSelector: `spec.nodeName=${this.options.nodeName}` },
      (type, pod: V1Pod) => {
        if (type !== 'DELETED') this.observe(pod);
      },
      restart,
    );
  }

  private async resync(): Promise<void> {
    const list = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.options.nodeName}` });
    for (const pod of list.items) this.observe(pod);
  }

  private observe(pod: Obj): void {
    if (this.stopped) return;
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const running = this.pods.get(key);
    if (pod.metadata.deletionTimestamp) {
      if (running && !running.finished) {
        // run() ends, writes the final status, then confirms the deletion.
        running.stop ??= 'deleted';
        running.abort.abort();
        return;
      }
      if (running) this.forget(key, running);
      void this.confirmDeletion(pod).catch((e) => this.note(`delete ${key}`, e));
      return;
    }
    if (running || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const entry: RunningPod = {
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      abort: new AbortController(),
      logFile: path.join(tmpdir(), `osa-node-agent-${pod.metadata.uid}.log`),
      done: Promise.resolve(),
    };
    this.pods.set(key, entry);
    entry.done = this.run(pod, entry)
      .catch((e) => this.note(`run ${key}`, e))
      .then(async () => {
        entry.finished = true;
        if (entry.stop !== 'deleted') return; // a finished pod stays until someone deletes it
        this.forget(key, entry);
        await this.confirmDeletion(pod);
      })
      .catch((e) => this.note(`delete ${key}`, e));
  }

  private async run(pod: Obj, entry: RunningPod): Promise<void> {
    const container = pod.spec.containers[0];
    const status = structuredClone(pod.status ?? {}) as Obj;
    const view: Obj = { metadata: pod.metadata, spec: structuredClone(pod.spec), status };
    status.conditions ??= [];
    PodStatus.scheduled(view, container);
    status.hostIP = '127.0.0.1';
    status.hostIPs = [{ ip: '127.0.0.1' }];
    const argv = this.images[container.image];
    if (!argv || this.heldImages.has(container.image)) return this.failImagePull(view, entry, container.image);

    PodStatus.running(view);
    status.containerStatuses[0].imageID = `${container.image}@sha256:${'0'.repeat(64)}`;
    await this.writeStatus(view);
    const exit = await executePod({
      pod: view,
      argv,
      dataRoot: this.options.dataRoot,
      pvcName: this.options.pvcName,
      cwd: this.options.cwd,
      logFile: entry.logFile,
      signal: entry.abort.signal,
      sampleIntervalMs: this.options.memorySampleIntervalMs,
    });
    if (entry.stop === 'evicted') {
      PodStatus.evicted(view, entry.evictMessage!);
    } else if (entry.stop === 'deleted') {
      // The kubelet's SIGTERM ends the container; its status is written before the pod goes.
      PodStatus.terminated(view, 143, 'Error', 'Failed');
    } else if (exit.reason === 'oom') {
      PodStatus.terminated(view, 137, 'OOMKilled', 'Failed');
    } else if (exit.reason === 'spawn_failed') {
      PodStatus.terminated(view, 128, 'StartError', 'Failed');
    } else {
      const code = exit.exitCode ?? 137;
      PodStatus.terminated(view, code, code === 0 ? 'Completed' : 'Error', code === 0 ? 'Succeeded' : 'Failed');
    }
    await this.writeStatus(view);
  }

  /** ErrImagePull and ImagePullBackOff in turn, as the kubelet reports a missing image, until the pod goes. */
  private async failImagePull(view: Obj, entry: RunningPod, image: string): Promise<void> {
    for (let round = 0; !entry.stop; round++) {
      if (round % 2 === 0) {
        PodStatus.waiting(view, 'ErrImagePull', `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`);
      } else {
        PodStatus.waiting(view, 'ImagePullBackOff', `Back-off pulling image "${image}"`);
      }
      await this.writeStatus(view);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        entry.abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    if (entry.stop === 'evicted') PodStatus.evicted(view, entry.evictMessage!);
  }

  private async writeStatus(view: Obj): Promise<void> {
    try {
      await this.core.patchNamespacedPodStatus(
        { name: view.metadata.name, namespace: view.metadata.namespace, body: { status: view.status } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      // A pod deleted meanwhile has no status left to write.
      if ((err as { code?: number }).code !== 404) this.note(`status of ${view.metadata.namespace}/${view.metadata.name}`, err);
    }
  }

  /**
   * A pod being deleted stays until its node confirms with grace period 0; without that, Job
   * completion, TTL cleanup and namespace deletion wait forever.
   */
  private async confirmDeletion(pod: Obj): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } },
      });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404 && code !== 409) throw err;
    }
  }

  private forget(key: string, entry: RunningPod): void {
    this.pods.delete(key);
    void rm(entry.logFile, { force: true });
  }

  /** The kubelet's containerLogs endpoint, which the apiserver proxies `pods/log` to. */
  private async serveLogs(): Promise<number> {
    const [cert, key] = await Promise.all([
      readFile(path.join(this.options.certDir, 'apiserver.crt')),
      readFile(path.join(this.options.certDir, 'apiserver.key')),
    ]);
    this.server = createServer({ cert, key }, (req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'https://node');
        const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
        const pod = m ? this.pods.get(`${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`) : undefined;
        if (!pod) {
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('container not found');
          return;
        }
        const text = await readFile(pod.logFile, 'utf8').catch(() => '');
        const lines = text.split('\n');
        if (lines.at(-1) === '') lines.pop();
        const tail = url.searchParams.get('tailLines');
        const shown = tail === null ? lines : lines.slice(-Math.max(0, Number(tail)));
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(shown.length ? `${shown.join('\n')}\n` : '');
      })();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }
}
