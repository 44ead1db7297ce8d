import { createHash } from 'node:crypto';
import type { ContainerRunRequest } from '../port/container-runner.port.js';

/** Labels every Job and pod of this runner carries; the lookup, capacity() and the NetworkPolicy select on them. */
export const Label = {
  managedBy: 'app.kubernetes.io/managed-by',
  role: 'osa.io/role',
  run: 'osa.io/run',
  batch: 'osa.io/batch',
  hook: 'osa.io/hook',
  attempt: 'osa.io/attempt',
  /** Hash of what the container does (image, memory, cpu, deadline, env): Jobs only re-attach to an identical one. */
  spec: 'osa.io/spec',
  /** Selected by the hook NetworkPolicy that denies all traffic. */
  network: 'osa.io/network',
  jobName: 'batch.kubernetes.io/job-name',
} as const;

export const MANAGED_BY = 'osa-ingest';

/** The Job's directories, as sub-paths of the data PVC (JSON of ContainerDirs). */
export const DIRS_ANNOTATION = 'osa.io/dirs';

const MAX_NAME = 63;

export function shortHash(text: string, length = 6): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** Lowercase alphanumerics and "-", no leading digit or dash at either end: a DNS-1035 label fragment. */
function dnsFragment(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * A valid label value (≤ 63 chars of [A-Za-z0-9_.-], alphanumeric at both ends); a value that
 * had to change gets a hash suffix so two different inputs never share a label.
 */
export function labelValue(text: string): string {
  const valid = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
  if (text.length <= MAX_NAME && valid.test(text)) return text;
  const cleaned = text.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${cleaned.slice(0, MAX_NAME - 7)}-${shortHash(text)}`.replace(/^-/, 'x-');
}

/**
 * What identifies the work a Job does, beyond (run, batch, hook, attempt): the container spec
 * and the sub-run `step` within the attempt (OOM retries, bisection), so two steps never attach
 * to or reuse each other's Job.
 */
export function specHash(request: ContainerRunRequest, memoryBytes: number): string {
  const { role, hook, image, limits, env } = request;
  // `step` is read defensively: older ContainerRunRequest shapes do not have it.
  const step = (request as { step?: number }).step ?? 0;
  const sortedEnv = Object.entries(env).sort(([a], [b]) => a.localeCompare(b));
  return shortHash(JSON.stringify([role, hook ?? '', image ?? '', memoryBytes, limits.cpu, limits.timeout_seconds, sortedEnv, step]), 10);
}

/**
 * Deterministic DNS-1035 Job name ≤ 63 chars: `osa-h-<hook>-<run8>-b<batch>-a<attempt>-<hash>` or
 * `osa-i-<run8>-b<batch>-a<attempt>-<hash>`. The hash covers the full run id and the spec, so the
 * same attempt re-run with more memory (OOM escalation) never collides with its predecessor while
 * that one is still being deleted, and truncating the hook name never makes two names equal.
 */
export function jobName(request: ContainerRunRequest, spec: string): string {
  const run8 = dnsFragment(request.runId).slice(0, 8) || 'run';
  const tail = `${run8}-b${request.batchIndex}-a${request.attempt}-${shortHash(`${request.runId}/${request.hook ?? ''}/${spec}`)}`;
  if (request.role === 'ingester') return `osa-i-${tail}`.slice(0, MAX_NAME);
  const room = MAX_NAME - 'osa-h-'.length - tail.length - 1;
  const hook =
    dnsFragment(request.hook ?? 'hook')
      .slice(0, Math.max(room, 1))
      .replace(/-$/, '') || 'h';
  return `osa-h-${hook}-${tail}`;
}

/** Labels of a Job (and its pod template) for this request. */
export function jobLabels(request: ContainerRunRequest, spec: string): Record<string, string> {
  const labels: Record<string, string> = {
    [Label.managedBy]: MANAGED_BY,
    [Label.role]: request.role,
    [Label.run]: labelValue(request.runId),
    [Label.batch]: String(request.batchIndex),
    [Label.attempt]: String(request.attempt),
    [Label.spec]: spec,
  };
  if (request.role === 'hook') {
    labels[Label.hook] = labelValue(request.hook ?? '');
    labels[Label.network] = 'none';
  }
  return labels;
}

/**
 * Selects every Job doing the same work as this request, whatever its attempt: how a restarted
 * worker finds the Job its predecessor started.
 */
export function sameWorkSelector(request: ContainerRunRequest, spec: string): string {
  const labels = jobLabels(request, spec);
  delete labels[Label.attempt];
  delete labels[Label.network];
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
