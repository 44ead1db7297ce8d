import { SimApiError } from './k8s-objects.js';

/** What can go wrong with a pod, as a test asks for it. */
export type PodFault =
  /** PodScheduled False/Unschedulable; schedulable after `untilMs` or `makeSchedulable()`. */
  | { type: 'unschedulable'; message?: string; untilMs?: number }
  /** The image cannot be pulled: ErrImagePull alternating with ImagePullBackOff. */
  | { type: 'image-pull'; message?: string }
  /** The kubelet OOM-kills the container after `afterMs`; `jobSucceeds` reproduces kubernetes#131530. */
  | { type: 'oom'; afterMs?: number; jobSucceeds?: boolean }
  /** The container exits with this code without running anything, printing `output`. */
  | { type: 'exit'; exitCode: number; output?: string[] }
  /** The kubelet evicts the pod after `afterMs` (phase Failed, reason Evicted, DisruptionTarget). */
  | { type: 'evict'; afterMs?: number; message?: string };

export interface PodFaultMatch {
  /** Only pods of this image. */
  image?: string;
  /** How many pods it applies to. @defaultValue 1 */
  times?: number;
}

/** An API call answered with an error instead of being served. */
export interface ApiFault {
  /** HTTP method. @defaultValue any */
  method?: 'GET' | 'POST' | 'DELETE';
  /** Matches the URL path (without query): a substring or a RegExp. */
  path: string | RegExp;
  code: 403 | 404 | 409 | 429 | 500 | 503;
  /** How many matching calls fail. @defaultValue 1 */
  times?: number;
  message?: string;
}

interface Armed<T> {
  value: T;
  left: number;
}

/** Holds armed faults and hands each out the number of times it was armed for. */
export class FaultBook {
  private readonly pods: Armed<{ fault: PodFault; image?: string }>[] = [];
  private readonly api: Armed<ApiFault>[] = [];

  addPod(fault: PodFault, match: PodFaultMatch = {}): void {
    this.pods.push({ value: { fault, image: match.image }, left: match.times ?? 1 });
  }

  addApi(fault: ApiFault): void {
    this.api.push({ value: fault, left: fault.times ?? 1 });
  }

  takePod(image: string | undefined): PodFault | undefined {
    const armed = this.pods.find((a) => a.left > 0 && (a.value.image === undefined || a.value.image === image));
    if (!armed) return undefined;
    armed.left--;
    return armed.value.fault;
  }

  /** The error a call must get, if any armed fault matches it. */
  takeApi(method: string, path: string): SimApiError | undefined {
    const armed = this.api.find(
      (a) =>
        a.left > 0 &&
        (a.value.method === undefined || a.value.method === method) &&
        (typeof a.value.path === 'string' ? path.includes(a.value.path) : a.value.path.test(path)),
    );
    if (!armed) return undefined;
    armed.left--;
    return faultError(armed.value, method, path);
  }
}

const VERBS: Record<string, string> = { GET: 'get', POST: 'create', DELETE: 'delete' };

function faultError(fault: ApiFault, method: string, path: string): SimApiError {
  const m = /\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(log|status))?/.exec(path);
  const namespace = m?.[1] ?? 'default';
  const resource = m?.[4] === 'log' ? 'pods/log' : (m?.[2] ?? 'resource');
  const group = resource === 'jobs' ? 'batch' : '';
  const qualified = group ? `${resource}.${group}` : resource;
  const verb = method === 'GET' && !m?.[3] ? 'list' : (VERBS[method] ?? method.toLowerCase());
  const details = { name: m?.[3], group: group || undefined, kind: resource.split('/')[0] };
  switch (fault.code) {
    case 403:
      return SimApiError.of(
        403,
        fault.message ??
          `${qualified} is forbidden: User "system:serviceaccount:${namespace}:osa-ingest" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
        details,
      );
    case 404:
      return SimApiError.of(404, fault.message ?? `${qualified} "${m?.[3] ?? ''}" not found`, details);
    case 409:
      return SimApiError.of(409, fault.message ?? `${qualified} "${m?.[3] ?? ''}" already exists`, details);
    case 429:
      return SimApiError.of(429, fault.message ?? 'Too many requests, please try again later.', { retryAfterSeconds: 1 });
    case 500:
      return SimApiError.of(500, fault.message ?? 'Internal error occurred: etcdserver: request timed out');
    case 503:
      return SimApiError.of(503, fault.message ?? 'the server is currently unable to handle the request');
  }
}
