import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { apiStatusCode, type ApiOperation, classifyApiError } from './k8s-api-error.js';
import { Label } from './job-naming.js';
import type { KubernetesApis } from './kube-client.factory.js';

/**
 * The Kubernetes calls the runner makes, each translated into the pipeline's error taxonomy.
 * Keeps client-node's shapes out of the lifecycle code.
 */
export class JobApiGateway {
  constructor(
    private readonly apis: KubernetesApis,
    readonly namespace: string,
  ) {}

  /** Jobs matching a label selector, skipping those already being deleted. */
  async findJobs(labelSelector: string): Promise<V1Job[]> {
    const list = await this.call({ verb: 'list', resource: 'jobs' }, () =>
      this.apis.batch.listNamespacedJob({ namespace: this.namespace, labelSelector }),
    );
    return list.items.filter((j) => !j.metadata?.deletionTimestamp);
  }

  /** Creates the Job; resolves undefined when one of that name already exists (HTTP 409). */
  async createJob(body: V1Job): Promise<V1Job | undefined> {
    try {
      return await this.apis.batch.createNamespacedJob({ namespace: this.namespace, body });
    } catch (err) {
      if (apiStatusCode(err) === 409) return undefined;
      throw classifyApiError(err, { verb: 'create', resource: 'jobs', namespace: this.namespace, name: body.metadata?.name });
    }
  }

  /** The Job's current status; a 404 becomes TransientError(vanished). */
  readJob(name: string): Promise<V1Job> {
    return this.call({ verb: 'get', resource: 'jobs', name }, () => this.apis.batch.readNamespacedJobStatus({ name, namespace: this.namespace }));
  }

  /** Pods the Job controller created for the named Job. */
  async listJobPods(jobName: string): Promise<V1Pod[]> {
    const list = await this.call({ verb: 'list', resource: 'pods' }, () =>
      this.apis.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `${Label.jobName}=${jobName}` }),
    );
    return list.items;
  }

  /** Pending pods of this runner, for capacity(). */
  async listPendingPods(): Promise<V1Pod[]> {
    const list = await this.call({ verb: 'list', resource: 'pods' }, () =>
      this.apis.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: `${Label.managedBy}=osa-ingest`,
        fieldSelector: 'status.phase=Pending',
      }),
    );
    return list.items;
  }

  /** The pod's last log lines; a log that cannot be read (container never started, pod gone) yields none. */
  async readLogTail(podName: string, tailLines: number): Promise<string[]> {
    try {
      const text = await this.apis.core.readNamespacedPodLog({ name: podName, namespace: this.namespace, tailLines });
      const lines = String(text ?? '').split('\n');
      if (lines.at(-1) === '') lines.pop();
      return lines.slice(-tailLines);
    } catch {
      return [];
    }
  }

  /** Deletes the Job and, through Background propagation, its pods. Already gone is fine. */
  async deleteJob(name: string): Promise<void> {
    try {
      await this.apis.batch.deleteNamespacedJob({ name, namespace: this.namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (apiStatusCode(err) === 404) return;
      throw classifyApiError(err, { verb: 'delete', resource: 'jobs', namespace: this.namespace, name });
    }
  }

  private async call<T>(op: Omit<ApiOperation, 'namespace'>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifyApiError(err, { ...op, namespace: this.namespace });
    }
  }
}
