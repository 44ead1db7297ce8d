import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/** The two API groups the runner talks to. */
export interface KubernetesApis {
  batch: BatchV1Api;
  core: CoreV1Api;
}

/**
 * Kubernetes credentials the way the services find them: the file named by KUBECONFIG when
 * set (developer machines), else the pod's in-cluster service account.
 */
export function kubeConfigFromEnv(env: Record<string, string | undefined> = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
  else kc.loadFromCluster();
  return kc;
}

/**
 * A KubeConfig for an explicit API server URL, e.g. the test simulator. Plain http needs
 * skipTLSVerify, else client-node refuses to connect.
 */
export function kubeConfigForServer(server: string, token = 'test-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'target', server, skipTLSVerify: true }],
    users: [{ name: 'runner', token }],
    contexts: [{ name: 'target', cluster: 'target', user: 'runner', namespace: 'default' }],
    currentContext: 'target',
  });
  return kc;
}

export function createKubernetesApis(kc: KubeConfig): KubernetesApis {
  return { batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) };
}
