import { parseMemoryQuantity } from '#osa/runners-kubernetes';
import { type Obj, SimApiError } from './k8s-objects.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * The subset of the API server's Job validation that catches mistakes a Job builder makes:
 * names, labels, restartPolicy, dnsPolicy None without nameservers, sub-paths, volume names,
 * requests above limits. Throws 422 Invalid with causes, shaped like the real response.
 */
export function validateJob(job: Obj): void {
  const causes: { field: string; message: string }[] = [];
  const bad = (field: string, message: string) => causes.push({ field, message });
  const name: string | undefined = job.metadata?.name;
  if (!name) bad('metadata.name', 'Required value: name or generateName is required');
  // The name is copied into the pods' job-name label, hence 63 rather than 253.
  else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 63)
    bad('metadata.name', `Invalid value: "${name}": must be no more than 63 characters and a lowercase RFC 1123 subdomain`);
  for (const [where, labels] of [
    ['metadata.labels', job.metadata?.labels],
    ['spec.template.metadata.labels', job.spec?.template?.metadata?.labels],
  ] as const) {
    for (const [k, v] of Object.entries((labels ?? {}) as Record<string, string>)) {
      if (!LABEL_NAME.test(k)) bad(`${where}`, `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
        bad(
          `${where}`,
          `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and at most 63 characters`,
        );
    }
  }
  const pod = job.spec?.template?.spec;
  if (!pod) {
    bad('spec.template.spec', 'Required value');
  } else {
    if (!['Never', 'OnFailure'].includes(pod.restartPolicy))
      bad('spec.template.spec.restartPolicy', `Unsupported value: "${pod.restartPolicy}": supported values: "OnFailure", "Never"`);
    if (job.spec.podFailurePolicy && pod.restartPolicy !== 'Never')
      bad('spec.template.spec.restartPolicy', 'Invalid value: only "Never" is supported when podFailurePolicy is specified');
    if (pod.dnsPolicy === 'None' && !(pod.dnsConfig?.nameservers?.length > 0))
      bad('spec.template.spec.dnsConfig', 'Required value: must provide at least one DNS nameserver when `dnsPolicy` is None');
    const volumes = new Set(((pod.volumes ?? []) as Obj[]).map((v) => v.name));
    const containers = (pod.containers ?? []) as Obj[];
    if (containers.length === 0) bad('spec.template.spec.containers', 'Required value');
    containers.forEach((c, i) => {
      const at = `spec.template.spec.containers[${i}]`;
      if (!c.image) bad(`${at}.image`, 'Required value');
      for (const m of (c.volumeMounts ?? []) as Obj[]) {
        if (!volumes.has(m.name)) bad(`${at}.volumeMounts.name`, `Not found: "${m.name}"`);
        if (m.subPath && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..')))
          bad(`${at}.volumeMounts.subPath`, `Invalid value: "${m.subPath}": must be a relative path without '..'`);
      }
      const limit = c.resources?.limits?.memory ? parseMemoryQuantity(c.resources.limits.memory) : undefined;
      const request = c.resources?.requests?.memory ? parseMemoryQuantity(c.resources.requests.memory) : undefined;
      if (limit !== undefined && request !== undefined && request > limit)
        bad(
          `${at}.resources.requests`,
          `Invalid value: "${c.resources.requests.memory}": must be less than or equal to memory limit of ${c.resources.limits.memory}`,
        );
    });
  }
  if (causes.length === 0) return;
  throw SimApiError.of(422, `Job.batch "${name ?? ''}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    name,
    group: 'batch',
    kind: 'Job',
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })),
  });
}
