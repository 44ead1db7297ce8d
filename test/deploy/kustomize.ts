/**
 * A small kustomize renderer for k8s/: exactly the features the manifests use (resources,
 * namespace, labels, images, configMapGenerator literals or files with behavior create|merge and
 * options labels|disableNameSuffixHash, patches by path as strategic merge). Anything else in a kustomization.yaml throws, so a new feature cannot
 * be silently ignored: extend this file (and the kubectl comparison will tell if it is right).
 * Tests must not need kubectl (a fresh machine may have none, or Debian's 1.20 with an old kustomize).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Obj = Record<string, unknown>;
export interface K8sObject extends Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Obj;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>;
  images?: Array<{ name: string; newName?: string; newTag?: string; digest?: string }>;
  configMapGenerator?: Array<{
    name: string;
    behavior?: 'create' | 'merge';
    literals?: string[];
    files?: string[];
    options?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean };
  }>;
  patches?: Array<{ path: string }>;
}
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'configMapGenerator', 'patches']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass']);
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
/** Strategic-merge keys of the lists our patches touch; other lists are replaced, as kustomize does. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses multi-document YAML; JSON round-trip so YAML aliases never share one object. */
export function readYamlDocs(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    return value == null ? [] : [JSON.parse(JSON.stringify(value)) as K8sObject];
  });
}

/** Renders a kustomization directory: what `kubectl kustomize DIR` prints, as objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const generated = new Map<K8sObject, string>();
  const objects = renderLayer(dir, generated);
  // Like kustomize, the content hash is added once, after every layer merged its literals.
  const renamed = new Map<string, string>();
  for (const [cm, name] of generated) {
    const suffix = configMapHash(cm.data as Record<string, string>);
    renamed.set(`${cm.metadata.namespace ?? ''}/${name}`, `${name}-${suffix}`);
    cm.metadata.name = `${name}-${suffix}`;
  }
  for (const o of objects) rewriteConfigMapRefs(o, o.metadata.namespace ?? '', renamed);
  return objects;
}

function renderLayer(dir: string, generated: Map<K8sObject, string>): K8sObject[] {
  const [k] = readYamlDocs(path.join(dir, 'kustomization.yaml')) as unknown as Kustomization[];
  if (!k) throw new Error(`${dir}: empty kustomization.yaml`);
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) throw new Error(`${dir}: the test renderer does not support ${unsupported.join(', ')}`);

  const objects: K8sObject[] = [];
  for (const ref of k.resources ?? []) {
    const p = path.join(dir, ref);
    objects.push(...(statSync(p).isDirectory() ? renderLayer(p, generated) : readYamlDocs(p)));
  }
  for (const g of k.configMapGenerator ?? []) {
    const unsupportedOptions = Object.keys(g.options ?? {}).filter((key) => !['labels', 'disableNameSuffixHash'].includes(key));
    if (unsupportedOptions.length)
      throw new Error(`${dir}: the test renderer does not support configMapGenerator options ${unsupportedOptions.join(', ')}`);
    const data = Object.fromEntries([
      ...(g.literals ?? []).map((l): [string, string] => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      // `key=path` or a path whose file name is the key.
      ...(g.files ?? []).map((f): [string, string] => {
        const [key, file] = f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [path.basename(f), f];
        return [key, readFileSync(path.join(dir, file), 'utf8')];
      }),
    ]);
    if (g.behavior === 'merge') {
      const target = [...generated].find(([, name]) => name === g.name)?.[0];
      if (!target) throw new Error(`${dir}: configMapGenerator ${g.name} merges into nothing`);
      target.data = { ...(target.data as Obj), ...data };
    } else {
      const cm: K8sObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: g.name, ...(g.options?.labels && { labels: g.options.labels }) },
        data,
      };
      if (!g.options?.disableNameSuffixHash) generated.set(cm, g.name);
      objects.push(cm);
    }
  }
  for (const { path: p } of k.patches ?? []) {
    for (const patch of readYamlDocs(path.join(dir, p))) {
      const target = objects.find((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (!target) throw new Error(`${dir}/${p}: no ${patch.kind} ${patch.metadata.name} to patch`);
      strategicMerge(target, patch);
    }
  }
  for (const o of objects) {
    if (k.namespace && !CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
    for (const l of k.labels ?? []) {
      if (l.includeSelectors) throw new Error(`${dir}: labels.includeSelectors is not supported`);
      o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
      const template = WORKLOADS.has(o.kind) ? podTemplate(o) : undefined;
      if (l.includeTemplates && template) {
        const meta = (template.metadata ??= {}) as Obj;
        meta.labels = { ...(meta.labels as Obj), ...l.pairs };
      }
    }
    for (const c of containersOf(o)) {
      const image = String(c.image);
      const name = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
      const rule = (k.images ?? []).find((i) => i.name === name);
      if (rule) c.image = `${rule.newName ?? name}${rule.digest ? `@${rule.digest}` : rule.newTag ? `:${rule.newTag}` : image.slice(name.length)}`;
    }
  }
  return objects;
}

/** kustomize's ConfigMap name hash (api/hasher): note it hashes an empty name. */
export function configMapHash(data: Record<string, string>): string {
  const sorted = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((key) => [key, data[key]]),
  );
  const json = JSON.stringify({ data: sorted, kind: 'ConfigMap', name: '' }).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  const map: Record<string, string> = { 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' };
  return createHash('sha256')
    .update(json)
    .digest('hex')
    .slice(0, 10)
    .replace(/[013ae]/g, (c) => map[c]!);
}

export function strategicMerge(base: Obj, patch: Obj): void {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) throw new Error(`strategic merge directive ${key} is not supported`);
    const mergeKey = MERGE_KEYS[key];
    const current = base[key];
    if (value === null) delete base[key];
    else if (Array.isArray(value) && mergeKey && Array.isArray(current)) {
      for (const item of value as Obj[]) {
        const match = (current as Obj[]).find((c) => c[mergeKey] === item[mergeKey]);
        if (match) strategicMerge(match, item);
        else current.push(item);
      }
    } else if (isObj(value) && isObj(current)) strategicMerge(current, value);
    else base[key] = value;
  }
}

export function podTemplate(o: K8sObject): Obj | undefined {
  const spec = o.spec as Obj | undefined;
  return isObj(spec?.template) ? spec.template : undefined;
}

export function containersOf(o: K8sObject): Obj[] {
  const pod = podTemplate(o)?.spec as Obj | undefined;
  return [...((pod?.initContainers as Obj[]) ?? []), ...((pod?.containers as Obj[]) ?? [])];
}

function rewriteConfigMapRefs(node: unknown, namespace: string, renamed: Map<string, string>): void {
  if (Array.isArray(node)) node.forEach((n) => rewriteConfigMapRefs(n, namespace, renamed));
  if (!isObj(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (['configMapRef', 'configMapKeyRef', 'configMap'].includes(key) && isObj(value)) {
      const to = renamed.get(`${namespace}/${String(value.name)}`);
      if (to) value.name = to;
    }
    rewriteConfigMapRefs(value, namespace, renamed);
  }
}
