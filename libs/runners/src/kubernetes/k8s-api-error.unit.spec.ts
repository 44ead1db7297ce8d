import { ApiException } from '@kubernetes/client-node';
import { ErrorKind, PermanentError, TransientError } from '#osa/domain';
import { type ApiOperation, classifyApiError } from './k8s-api-error.js';

const op: ApiOperation = { verb: 'create', resource: 'jobs', namespace: 'osa-ingest', name: 'osa-i-x' };
const api = (code: number, body: object) => new ApiException(code, 'Unknown API Status Code!', JSON.stringify(body), {});

describe('classifyApiError', () => {
  it('maps 403 to a permanent forbidden naming the verb and resource', () => {
    const err = classifyApiError(api(403, { reason: 'Forbidden', message: 'nope' }), op);
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ kind: ErrorKind.Forbidden });
    expect(err.message).toMatch(/"create" on "jobs"/);
  });

  it('maps a 404 for the namespace to a permanent namespace_missing', () => {
    const err = classifyApiError(api(404, { reason: 'NotFound', details: { kind: 'namespaces', name: 'osa-ingest' } }), op);
    expect(err).toMatchObject({ kind: ErrorKind.NamespaceMissing, retryable: false });
  });

  it('maps a 404 for the object itself to a transient vanished', () => {
    const err = classifyApiError(api(404, { reason: 'NotFound', details: { kind: 'jobs' } }), { ...op, verb: 'get' });
    expect(err).toBeInstanceOf(TransientError);
    expect(err).toMatchObject({ kind: ErrorKind.Vanished });
  });

  it.each([429, 500, 502, 503])('maps %i to a transient kubernetes_api', (code) => {
    expect(classifyApiError(api(code, {}), op)).toMatchObject({ kind: ErrorKind.KubernetesApi, retryable: true });
  });

  it('maps 422 (the Job was rejected) to a permanent error', () => {
    expect(classifyApiError(api(422, { reason: 'Invalid' }), op)).toBeInstanceOf(PermanentError);
  });

  it('maps connection failures to a transient kubernetes_api', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(classifyApiError(err, op)).toMatchObject({ kind: ErrorKind.KubernetesApi, retryable: true });
  });

  it('passes through errors that are not API failures', () => {
    const bug = new TypeError('x is undefined');
    expect(classifyApiError(bug, op)).toBe(bug);
  });
});
