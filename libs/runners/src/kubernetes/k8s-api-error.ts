import { ApiException } from '@kubernetes/client-node';
import { ErrorKind, PermanentError, TransientError } from '#osa/domain';

/** What the runner was doing when an API call failed, for messages operators can act on. */
export interface ApiOperation {
  verb: 'create' | 'get' | 'list' | 'delete';
  resource: 'jobs' | 'pods' | 'pods/log';
  namespace: string;
  name?: string;
}

interface StatusBody {
  reason?: string;
  message?: string;
  details?: { kind?: string; name?: string };
}

/** The HTTP status of a client-node ApiException, or undefined for anything else. */
export function apiStatusCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** The API server's Status object from an ApiException (its body is raw text in client-node 1.x). */
export function apiStatus(err: unknown): StatusBody {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'object' && body !== null) return body;
  if (typeof body !== 'string') return {};
  try {
    return JSON.parse(body) as StatusBody;
  } catch {
    return { message: body.slice(0, 500) };
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function isNetworkError(err: unknown): boolean {
  const e = err as { code?: unknown; type?: unknown; name?: unknown; cause?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'FetchError' || e.type === 'system' || e.type === 'request-timeout') return true;
  return e.cause !== undefined && isNetworkError(e.cause);
}

/**
 * The single place mapping a Kubernetes API failure to the pipeline's failure taxonomy (docs/architecture.md):
 * 403/401 and a missing namespace are permanent, 429/5xx/network errors are transient, a 404 of
 * the object itself means it vanished (transient). Errors that are not API failures pass through.
 */
export function classifyApiError(err: unknown, op: ApiOperation): Error {
  const target = `${op.verb} ${op.resource}${op.name ? ` "${op.name}"` : ''} in namespace "${op.namespace}"`;
  const code = apiStatusCode(err);
  if (code === undefined) {
    if (isNetworkError(err)) {
      return new TransientError(`Kubernetes API unreachable (${target}): ${(err as Error).message}`, ErrorKind.KubernetesApi, [], {}, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }
  const status = apiStatus(err);
  const detail = status.message ? `: ${status.message}` : '';
  if (code === 403 || code === 401) {
    const [resource, sub] = op.resource.split('/');
    return new PermanentError(
      `Kubernetes denied ${target} (HTTP ${code})${detail}. Grant the runner's service account "${op.verb}" on ` +
        `${sub ? `"${resource}/${sub}"` : `"${resource}"`} in a Role bound in namespace "${op.namespace}" (see k8s/ RBAC).`,
      ErrorKind.Forbidden,
      [],
      { httpStatus: code },
      { cause: err },
    );
  }
  if (code === 404 && status.details?.kind === 'namespaces') {
    return new PermanentError(
      `namespace "${op.namespace}" does not exist (${target})${detail}; create it or set K8S_NAMESPACE`,
      ErrorKind.NamespaceMissing,
      [],
      { httpStatus: code },
      { cause: err },
    );
  }
  if (code === 404) {
    return new TransientError(
      `${op.resource} "${op.name ?? '?'}" vanished while being watched${detail}`,
      ErrorKind.Vanished,
      [],
      { httpStatus: code },
      { cause: err },
    );
  }
  if (code === 429 || code >= 500) {
    return new TransientError(
      `Kubernetes API answered HTTP ${code} to ${target}${detail}`,
      ErrorKind.KubernetesApi,
      [],
      { httpStatus: code },
      { cause: err },
    );
  }
  // 400/422: the Job we built was rejected, which retrying cannot fix.
  return new PermanentError(
    `Kubernetes rejected ${target} (HTTP ${code})${detail}`,
    ErrorKind.InvalidConvention,
    [],
    { httpStatus: code },
    { cause: err },
  );
}
