import { describeRunnerConformance } from './runner-conformance.cases.js';
import { localTarget, type OwnedTarget, simulatorTarget } from './support/conformance-targets.js';

/**
 * The runner contract on the local runner and on the Kubernetes runner against the API
 * simulator; test/k8s/control-plane.k8s.spec.ts runs the same cases against the real control plane.
 */
describe.each([
  ['local runner', 'local' as const, localTarget],
  ['Kubernetes runner on the API simulator', 'kubernetes' as const, simulatorTarget],
])('runner conformance: %s', (_name, kind, start) => {
  let owned: OwnedTarget;
  beforeAll(async () => {
    owned = await start();
  });
  afterAll(async () => owned?.close());

  describeRunnerConformance(kind, () => owned.target);
});
