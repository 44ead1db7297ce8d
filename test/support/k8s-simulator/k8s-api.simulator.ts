import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { ApiFault, PodFault, PodFaultMatch } from './fault-injection.js';
import { clone, list, type Obj, SimApiError } from './k8s-objects.js';
import { fieldSelector, labelSelector } from './selectors.js';
import { SimCluster } from './sim-cluster.js';

export interface K8sSimulatorOptions {
  /** Local directory standing in for the data PVC: sub-path mounts map to `<dataRoot>/<subPath>`. */
  dataRoot: string;
  /** The claim that maps to dataRoot. @defaultValue "osa-ingest-data" */
  pvcName?: string;
  /** Namespaces that exist; creating in another gives 404 `namespaces "x" not found`. @defaultValue ["osa-ingest"] */
  namespaces?: string[];
  /** What each image runs (argv). Unmapped images run the container's own command, or fail to pull. */
  images?: Record<string, readonly string[]>;
  /** Working directory of pod processes. @defaultValue process.cwd() */
  cwd?: string;
  /** Multiplies ttlSecondsAfterFinished; 0 deletes finished Jobs at once. @defaultValue 1 */
  ttlScale?: number;
  /** How often pod memory is sampled. @defaultValue 50 */
  memorySampleIntervalMs?: number;
}

/** One call the simulator received (faulted calls included). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: Obj;
  status: number;
}

type Handler = (ns: string, name: string | undefined, query: URLSearchParams, body: Obj | undefined) => Promise<Obj | string> | Obj | string;

/**
 * A Kubernetes API server for tests (the fast level below the real control plane in test/k8s): a
 * real HTTP server speaking the batch/v1 Job and core/v1 pod paths the runner uses, answering with objects shaped as the API server's, and
 * running each pod's container as a local process. Tests steer it with fault injection.
 */
export class K8sApiSimulator {
  readonly requests: RecordedRequest[] = [];
  private readonly hooks: ((req: RecordedRequest) => void | Promise<void>)[] = [];
  private readonly routes: [string, RegExp, Handler][];

  private constructor(
    private readonly server: Server,
    private readonly cluster: SimCluster,
  ) {
    const ns = '/namespaces/([^/]+)';
    this.routes = [
      ['POST', new RegExp(`^/apis/batch/v1${ns}/jobs()$`), (n, _, __, body) => this.cluster.createJob(n, body ?? {})],
      ['GET', new RegExp(`^/apis/batch/v1${ns}/jobs()$`), (n, _, q) => this.listJobs(n, q)],
      ['GET', new RegExp(`^/apis/batch/v1${ns}/jobs/([^/]+)(?:/status)?$`), (n, name) => clone(this.cluster.job(n, name!).obj)],
      [
        'DELETE',
        new RegExp(`^/apis/batch/v1${ns}/jobs/([^/]+)$`),
        (n, name, q, body) => this.cluster.deleteJob(n, name!, q.get('propagationPolicy') ?? body?.propagationPolicy),
      ],
      ['GET', new RegExp(`^/api/v1${ns}/pods()$`), (n, _, q) => this.listPods(n, q)],
      ['GET', new RegExp(`^/api/v1${ns}/pods/([^/]+)$`), (n, name) => clone(this.cluster.pod(n, name!).obj)],
      ['GET', new RegExp(`^/api/v1${ns}/pods/([^/]+)/log$`), (n, name, q) => this.podLog(n, name!, q)],
    ];
  }

  /** Starts the simulator on 127.0.0.1 at a free port. */
  static async start(options: K8sSimulatorOptions): Promise<K8sApiSimulator> {
    const cluster = new SimCluster({
      dataRoot: options.dataRoot,
      pvcName: options.pvcName ?? 'osa-ingest-data',
      namespaces: options.namespaces ?? ['osa-ingest'],
      images: options.images ?? {},
      cwd: options.cwd ?? process.cwd(),
      ttlScale: options.ttlScale ?? 1,
      memorySampleIntervalMs: options.memorySampleIntervalMs,
    });
    const server = createServer();
    const sim = new K8sApiSimulator(server, cluster);
    server.on('request', (req, res) => void sim.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sim;
  }

  /** Base URL for a KubeConfig (`kubeConfigForServer(sim.url)`). */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Maps an image to the argv its pods run. */
  mapImage(image: string, argv: readonly string[]): void {
    this.cluster.options.images[image] = argv;
  }

  /** Arms a pod fault for the next pod(s) created (of `match.image`, if given). */
  injectPodFault(fault: PodFault, match?: PodFaultMatch): void {
    this.cluster.faults.addPod(fault, match);
  }

  /** Makes matching API calls fail with the given status, once or `times` times. */
  failApi(fault: ApiFault): void {
    this.cluster.faults.addApi(fault);
  }

  /** Runs before each call is served, e.g. to create a competing Job and cause a real 409. */
  onRequest(hook: (req: RecordedRequest) => void | Promise<void>): void {
    this.hooks.push(hook);
  }

  /** Creates a Job as another client would, bypassing the HTTP layer and fault injection. */
  createJob(body: Obj, namespace = 'osa-ingest'): IJob {
    return this.cluster.createJob(namespace, body) as IJob;
  }

  /** Lets every Unschedulable pod be scheduled now. */
  makeSchedulable(): void {
    this.cluster.makeSchedulable();
  }

  /** Deletes a Job and its pods behind the runner's back. */
  vanishJob(name: string, namespace = 'osa-ingest'): void {
    this.cluster.deleteJob(namespace, name, 'Background');
  }

  /** The kubelet evicts the pod now: phase Failed, reason Evicted, DisruptionTarget. */
  evictPod(name: string, namespace = 'osa-ingest', message?: string): void {
    this.cluster.evictPod(namespace, name, message);
  }

  /** Evicts the pod through the Eviction API, as a node drain does. */
  drainPod(name: string, namespace = 'osa-ingest'): void {
    this.cluster.evictPodViaApi(namespace, name);
  }

  /** Deletes a pod behind the runner's back; its Job fails, as the real Job controller decides. */
  deletePod(name: string, namespace = 'osa-ingest'): void {
    this.cluster.deletePodOfJob(namespace, name);
  }

  /** Fast-forwards the TTL controller: finished Jobs with ttlSecondsAfterFinished are deleted now. */
  expireTtl(): void {
    this.cluster.expireTtl();
  }

  /** Current Jobs (copies), optionally of one namespace. */
  jobs(namespace?: string): IJob[] {
    return this.jobObjects(namespace) as IJob[];
  }

  /** Current pods (copies), optionally of one namespace. */
  pods(namespace?: string): IPod[] {
    return this.podObjects(namespace) as IPod[];
  }

  /** Calls received, optionally filtered by method and path substring. */
  calls(method?: string, pathPart?: string | RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) => (!method || r.method === method) && (!pathPart || (typeof pathPart === 'string' ? r.path.includes(pathPart) : pathPart.test(r.path))),
    );
  }

  /** Stops every pod process and the server. */
  async close(): Promise<void> {
    await this.cluster.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // The simulator's own reads keep plain JSON, as the API server does; callers get it typed.
  private jobObjects(namespace?: string): Obj[] {
    return [...this.cluster.jobs.values()].map((j) => clone(j.obj)).filter((j) => !namespace || j.metadata.namespace === namespace);
  }

  private podObjects(namespace?: string): Obj[] {
    return [...this.cluster.pods.values()].map((p) => clone(p.obj)).filter((p) => !namespace || p.metadata.namespace === namespace);
  }

  private listJobs(namespace: string, query: URLSearchParams): Obj {
    const labels = labelSelector(query.get('labelSelector'));
    const fields = fieldSelector(query.get('fieldSelector'));
    const items = this.jobObjects(namespace).filter((j) => labels(j.metadata.labels) && fields(j));
    return list('JobList', 'batch/v1', items);
  }

  private listPods(namespace: string, query: URLSearchParams): Obj {
    const labels = labelSelector(query.get('labelSelector'));
    const fields = fieldSelector(query.get('fieldSelector'));
    const items = this.podObjects(namespace).filter((p) => labels(p.metadata.labels) && fields(p));
    return list('PodList', 'v1', items);
  }

  private async podLog(namespace: string, name: string, query: URLSearchParams): Promise<string> {
    const pod = this.cluster.pod(namespace, name);
    const state = pod.obj.status.containerStatuses?.[0]?.state;
    if (!state || state.waiting) {
      const reason = state?.waiting?.reason ?? 'ContainerCreating';
      const container = pod.obj.spec.containers[0].name;
      throw SimApiError.of(400, `container "${container}" in pod "${name}" is waiting to start: ${reason}`);
    }
    const text = await readFile(pod.logFile, 'utf8').catch(() => '');
    const tail = query.get('tailLines');
    if (tail === null) return text;
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const n = Number(tail);
    return lines.length && n > 0 ? `${lines.slice(-n).join('\n')}\n` : '';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0 };
    try {
      if (raw.trim()) record.body = JSON.parse(raw) as Obj;
    } catch {
      return this.send(res, record, SimApiError.of(400, 'the request body is not valid JSON'));
    }
    this.requests.push(record);
    try {
      for (const hook of this.hooks) await hook(record);
      const fault = this.cluster.faults.takeApi(record.method, record.path);
      if (fault) throw fault;
      if (url.searchParams.get('watch') === 'true') throw SimApiError.of(405, 'watch is not supported by the simulator; poll instead');
      for (const [method, pattern, handler] of this.routes) {
        const m = record.method === method ? pattern.exec(url.pathname) : null;
        if (m)
          return this.send(
            res,
            record,
            await handler(decodeURIComponent(m[1]!), m[2] ? decodeURIComponent(m[2]) : undefined, url.searchParams, record.body),
            method === 'POST' ? 201 : 200,
          );
      }
      throw SimApiError.of(404, 'the server could not find the requested resource');
    } catch (err) {
      this.send(res, record, err instanceof SimApiError ? err : SimApiError.of(500, `simulator error: ${String(err)}`));
    }
  }

  private send(res: ServerResponse, record: RecordedRequest, payload: Obj | string | SimApiError, code = 200): void {
    const status = payload instanceof SimApiError ? payload.code : code;
    record.status = status;
    const text = typeof payload === 'string';
    if (status === 429) res.setHeader('Retry-After', '1');
    res.writeHead(status, { 'Content-Type': text ? 'text/plain' : 'application/json' });
    res.end(text ? payload : JSON.stringify(payload instanceof SimApiError ? payload.status : payload));
  }
}
