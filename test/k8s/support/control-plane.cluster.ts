import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '#osa/testing';
import type { K8sBinaries } from './k8s-binaries.js';

/** A user of the static token file. The admin is in system:masters, which bypasses RBAC. */
interface TokenUser {
  token: string;
  user: string;
  groups: string[];
}

interface Component {
  name: string;
  child: ChildProcess;
  logFile: string;
}

/** Options of {@link ControlPlane.start}. */
export interface ControlPlaneOptions {
  binaries: K8sBinaries;
  /** Keep the work directory (etcd data, certificates, component logs) after stop. @defaultValue false */
  keepWorkDir?: boolean;
}

/**
 * etcd, kube-apiserver, kube-controller-manager and kube-scheduler as local processes on free
 * loopback ports, RBAC enforced and the default admission plugins on. No kubelet: pods are run by
 * a {@link NodeAgent} against a Node registered separately.
 */
export class ControlPlane {
  private readonly components: Component[] = [];
  private readonly onExit = () => this.killAll('SIGKILL');
  /** https://127.0.0.1:PORT of the apiserver. */
  server = '';
  private adminToken = '';

  private constructor(
    readonly workDir: string,
    private readonly options: ControlPlaneOptions,
  ) {}

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const plane = new ControlPlane(await mkdtemp(path.join(tmpdir(), 'osa-k8s-cp-')), options);
    process.once('exit', plane.onExit);
    try {
      await plane.boot();
    } catch (err) {
      const logs = await plane.logTails();
      await plane.stop();
      throw new Error(`the control plane did not start: ${(err as Error).message}\n${logs}`, { cause: err });
    }
    return plane;
  }

  /** The directory where the apiserver wrote its self-signed serving certificate and key. */
  get certDir(): string {
    return path.join(this.workDir, 'apiserver-certs');
  }

  /** A KubeConfig of the cluster admin (system:masters: never hand this to the runner). */
  adminKubeConfig(): KubeConfig {
    return this.kubeConfigForToken(this.adminToken, 'admin');
  }

  /** A KubeConfig authenticating with a bearer token, e.g. a ServiceAccount's from TokenRequest. */
  kubeConfigForToken(token: string, user = 'user', namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      // The serving certificate is self-signed by the apiserver for this run only.
      clusters: [{ name: 'test', server: this.server, skipTLSVerify: true }],
      users: [{ name: user, token }],
      contexts: [{ name: 'test', cluster: 'test', user, namespace }],
      currentContext: 'test',
    });
    return kc;
  }

  async stop(): Promise<void> {
    process.off('exit', this.onExit);
    // Reverse start order: the apiserver outlives its clients, etcd outlives the apiserver.
    for (const c of [...this.components].reverse()) await stopProcess(c.child);
    this.components.length = 0;
    if (!this.options.keepWorkDir) await rm(this.workDir, { recursive: true, force: true });
  }

  private async boot(): Promise<void> {
    const { binaries } = this.options;
    const dir = this.workDir;
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = (await freePorts(5)) as [number, number, number, number, number];

    const tokens: TokenUser[] = [
      { token: secret(), user: 'admin', groups: ['system:masters'] },
      { token: secret(), user: 'system:kube-controller-manager', groups: [] },
      { token: secret(), user: 'system:kube-scheduler', groups: [] },
    ];
    this.adminToken = tokens[0]!.token;
    await writeFile(path.join(dir, 'tokens.csv'), tokens.map((t) => `${t.token},${t.user},${t.user},"${t.groups.join(',')}"`).join('\n') + '\n');
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(path.join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(path.join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    this.spawn('etcd', binaries.etcd, [
      '--name=osa-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=osa-test=http://127.0.0.1:${etcdPeer}`,
      // Test data: durability costs seconds per test run and buys nothing.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await waitFor('etcd to report healthy', async () => (await fetch(`${etcdUrl}/health`).catch(() => undefined))?.ok === true, { timeoutMs: 60_000, intervalMs: 200 });

    this.server = `https://127.0.0.1:${apiPort}`;
    this.spawn('kube-apiserver', binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${this.certDir}`,
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/24',
      // No kube-proxy or endpoints here: the "kubernetes" Service needs no real endpoints.
      '--endpoint-reconciler-type=none',
      // The node agent serves pod logs on 127.0.0.1 with a self-signed certificate.
      '--kubelet-preferred-address-types=InternalIP',
      '--profiling=false',
      '-v=1',
    ]);
    await waitFor('kube-apiserver to be ready', () => this.healthy(apiPort, '/readyz', this.adminToken), { timeoutMs: 120_000, intervalMs: 250 });

    const kubeconfig = async (name: string, token: string) => {
      const file = path.join(dir, `${name}.kubeconfig`);
      await writeFile(file, this.kubeConfigForToken(token, name).exportConfig());
      return file;
    };
    const kcmConfig = await kubeconfig('kube-controller-manager', tokens[1]!.token);
    this.spawn('kube-controller-manager', binaries.kubeControllerManager, [
      `--kubeconfig=${kcmConfig}`,
      `--authentication-kubeconfig=${kcmConfig}`,
      `--authorization-kubeconfig=${kcmConfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${path.join(dir, 'kcm-certs')}`,
      '--leader-elect=false',
      // Every default controller: job, ttl-after-finished, garbage collector, serviceaccount,
      // namespace, node lifecycle, persistent volume binder… each with its own service account.
      '--controllers=*',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${path.join(dir, 'sa.key')}`,
      `--root-ca-file=${path.join(this.certDir, 'apiserver.crt')}`,
      '-v=1',
    ]);
    const schedConfig = await kubeconfig('kube-scheduler', tokens[2]!.token);
    this.spawn('kube-scheduler', binaries.kubeScheduler, [
      `--kubeconfig=${schedConfig}`,
      `--authentication-kubeconfig=${schedConfig}`,
      `--authorization-kubeconfig=${schedConfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      `--cert-dir=${path.join(dir, 'scheduler-certs')}`,
      '--leader-elect=false',
      '-v=1',
    ]);
    await waitFor('kube-controller-manager to be healthy', () => this.healthy(kcmPort, '/healthz'), { timeoutMs: 120_000, intervalMs: 250 });
    await waitFor('kube-scheduler to be healthy', () => this.healthy(schedPort, '/healthz'), { timeoutMs: 120_000, intervalMs: 250 });
  }

  private spawn(name: string, binary: string, args: string[]): void {
    const logFile = path.join(this.workDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.on('error', () => undefined);
    this.components.push({ name, child, logFile });
  }

  private healthy(port: number, pathname: string, token?: string): Promise<boolean> {
    for (const c of this.components) {
      if (c.child.exitCode !== null || c.child.signalCode !== null) {
        return Promise.reject(new Error(`${c.name} exited (${c.child.exitCode ?? c.child.signalCode}); see ${c.logFile}`));
      }
    }
    return new Promise((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: pathname, agent: new Agent({ rejectUnauthorized: false }), headers: token ? { authorization: `Bearer ${token}` } : {} },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.setTimeout(5000, () => req.destroy());
      req.end();
    });
  }

  private async logTails(): Promise<string> {
    const parts: string[] = [];
    for (const c of this.components) {
      const text = await readFile(c.logFile, 'utf8').catch(() => '');
      parts.push(`--- ${c.name} (last lines of ${c.logFile}) ---\n${text.split('\n').slice(-15).join('\n')}`);
    }
    return parts.join('\n');
  }

  private killAll(signal: NodeJS.Signals): void {
    for (const c of this.components) if (c.child.exitCode === null) c.child.kill(signal);
  }
}

function secret(): string {
  return randomBytes(24).toString('hex');
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Ports free right now on 127.0.0.1 (held open together so no two are the same). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
