import { randomBytes, randomUUID } from 'node:crypto';

/** A JSON object as the API server stores it; the simulator keeps plain JSON, like etcd. */
export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let resourceVersion = 1000;

export const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
export const nextResourceVersion = () => String(++resourceVersion);
export const newUid = () => randomUUID();

/** The 5-character suffix the Job controller's generateName adds to pod names. */
export function podSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function condition(type: string, status: 'True' | 'False', reason?: string, message?: string): Obj {
  const c: Obj = { type, status, lastProbeTime: null, lastTransitionTime: now() };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** Adds or replaces a condition by type, keeping lastTransitionTime when the status did not change. */
export function setCondition(conditions: Obj[], next: Obj): void {
  const i = conditions.findIndex((c) => c.type === next.type);
  const current = conditions[i];
  if (current === undefined) conditions.push(next);
  else conditions[i] = current.status === next.status ? { ...next, lastTransitionTime: current.lastTransitionTime } : next;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'AlreadyExists',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** A failure Status object exactly as the API server sends it. */
export function failureStatus(code: number, message: string, details?: Obj, reason = REASONS[code] ?? 'Unknown'): Obj {
  const status: Obj = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return status;
}

/** An error the HTTP layer turns into a Status response. */
export class SimApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: Obj,
  ) {
    super(status.message);
    this.name = 'SimApiError';
    Object.setPrototypeOf(this, SimApiError.prototype);
  }

  static of(code: number, message: string, details?: Obj, reason?: string): SimApiError {
    return new SimApiError(code, failureStatus(code, message, details, reason));
  }
}

export function notFound(resource: 'jobs' | 'pods', name: string): SimApiError {
  const group = resource === 'jobs' ? 'batch' : '';
  return SimApiError.of(404, `${resource}${group ? `.${group}` : ''} "${name}" not found`, { name, group: group || undefined, kind: resource });
}

export function list(kind: string, apiVersion: string, items: Obj[]): Obj {
  return { kind, apiVersion, metadata: { resourceVersion: String(resourceVersion) }, items };
}

export const clone = <T>(value: T): T => structuredClone(value);
