import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILD_SCRIPT = path.join(REPO_ROOT, 'tools/k8s/build.sh');

/** Paths of the control-plane binaries tools/k8s/build.sh produced, and their versions. */
export interface K8sBinaries {
  kubeVersion: string;
  etcdVersion: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
}

function parse(output: string): K8sBinaries {
  const vars = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1]!, m[2]!);
  }
  const need = (name: string) => {
    const value = vars.get(name);
    if (!value) throw new Error(`tools/k8s/build.sh printed no ${name}=…; output was:\n${output}`);
    return value;
  };
  return {
    kubeVersion: need('KUBE_VERSION'),
    etcdVersion: need('ETCD_VERSION'),
    kubeApiserver: need('KUBE_APISERVER'),
    kubeControllerManager: need('KUBE_CONTROLLER_MANAGER'),
    kubeScheduler: need('KUBE_SCHEDULER'),
    kubectl: need('KUBECTL'),
    etcd: need('ETCD'),
  };
}

/** Whether the binaries are built, or can be (Go is installed), without building anything. */
export function k8sBinariesAvailability(): 'built' | 'buildable' | 'unavailable' {
  try {
    execFileSync(BUILD_SCRIPT, ['--check'], { stdio: 'ignore' });
    return 'built';
  } catch {
    try {
      execFileSync('go', ['version'], { stdio: 'ignore' });
      return 'buildable';
    } catch {
      return 'unavailable';
    }
  }
}

/**
 * The binaries, building what is missing first (a cold build takes tens of minutes; later
 * calls return at once from the version-keyed cache).
 */
export function ensureK8sBinaries(): Promise<K8sBinaries> {
  return new Promise((resolve, reject) => {
    execFile(BUILD_SCRIPT, [], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tools/k8s/build.sh failed (${err.message}):\n${stderr.slice(-4000)}`));
      else resolve(parse(stdout));
    });
  });
}
