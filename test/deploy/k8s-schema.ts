/**
 * Schema checks for rendered objects: kubernetes-models validates types, required fields and
 * formats by kind, but its schemas allow unknown fields (a typo like `imagee` passes), so the
 * field names are checked too, against @kubernetes/client-node's model metadata.
 */
import * as k8s from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { isObj, type K8sObject } from './kustomize.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** Every kind the manifests may contain; any other kind fails the test rather than going unchecked. */
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  // Prometheus Operator kinds (k8s/monitoring): validated against the operator's CRD schemas.
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

/** Returns the schema errors of one object ([] = valid). */
export function schemaErrors(o: K8sObject): string[] {
  const id = `${o.apiVersion}/${o.kind}`;
  const Model = MODELS[id];
  if (!Model) return [`${id}: no schema registered in test/deploy/k8s-schema.ts`];
  const errors: string[] = [];
  try {
    new Model(o as never).validate();
  } catch (err) {
    errors.push(`${id} ${o.metadata?.name}: ${(err as Error).message}`);
  }
  unknownFields(o, `V1${o.kind}`, `${o.kind}/${o.metadata?.name}`, errors);
  return errors;
}

interface Attribute {
  baseName: string;
  type: string;
}
type ModelMeta = { getAttributeTypeMap?: () => Attribute[] };

function unknownFields(value: unknown, type: string, at: string, errors: string[]): void {
  if (value == null) return;
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, list[1]!, `${at}[${i}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObj(value)) for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${at}.${k}`, errors);
    return;
  }
  const attrs = (k8s as unknown as Record<string, ModelMeta>)[type]?.getAttributeTypeMap?.();
  if (!attrs || !isObj(value)) return; // a scalar, IntOrString, Date…
  for (const [key, v] of Object.entries(value)) {
    const attr = attrs.find((a) => a.baseName === key);
    if (!attr) errors.push(`${at}: unknown field "${key}"`);
    else unknownFields(v, attr.type, `${at}.${key}`, errors);
  }
}
