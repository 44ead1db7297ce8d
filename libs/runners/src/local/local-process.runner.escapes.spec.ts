import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorKind, OOMError, TransientError } from '#osa/domain';
import { rejection, waitFor } from '#osa/testing';
import type { ContainerRunRequest } from '../port/container-runner.port.js';
import { LocalProcessRunner } from './local-process.runner.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * A container's program. Every process it starts appends "<pid> <start ticks>" to the file named
 * by its last argument, so the test can tell whether any of them is still alive.
 *   main <mode> <pids>  starts one child, waits until it is up, then exits 0 or stays (ignoring SIGTERM);
 *   sleeper <pids>      ignores SIGTERM and never ends;
 *   hog <pids>          the same, holding 300 MiB.
 */
const CONTAINER_SCRIPT = String.raw`
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
const [role, ...rest] = process.argv.slice(2);
const pids = rest.at(-1);
const record = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  appendFileSync(pids, process.pid + ' ' + stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] + '\n');
};
const forever = () => { process.on('SIGTERM', () => {}); setInterval(() => {}, 60_000); };
if (role === 'hog') {
  record();
  const held = [];
  for (let i = 0; i < 300; i++) held.push(Buffer.alloc(1 << 20, 1));
  globalThis.held = held;
  forever();
} else if (role === 'sleeper') {
  // Printed before it counts as up (writes to a pipe are synchronous), so the line is in the log.
  console.log('sleeper up');
  record();
  forever();
} else if (role === 'main') {
  record();
  const mode = rest[0];
  const options = {
    'hold-stdout-exit': { detached: true, stdio: ['ignore', 'inherit', 'inherit'] },
    'hold-stdout-stay': { detached: true, stdio: ['ignore', 'inherit', 'inherit'] },
    'detached-exit': { detached: true, stdio: 'ignore' },
    'clean-env-stay': { detached: true, stdio: 'ignore', env: {} },
    'detached-hog-stay': { detached: true, stdio: 'ignore' },
  }[mode];
  const child = spawn(process.execPath, [process.argv[1], mode === 'detached-hog-stay' ? 'hog' : 'sleeper', pids], options);
  child.unref();
  const up = () => readFileSync(pids, 'utf8').split('\n').some((line) => line.startsWith(child.pid + ' '));
  const wait = () => (up() ? done() : setTimeout(wait, 10));
  const done = () => {
    console.log('main done');
    if (mode.endsWith('-exit')) process.exit(0);
    forever();
  };
  wait();
}
`;

/**
 * A stage service in its own process: runs one container with the local runner from the sources
 * (TypeScript compiled on load by @swc/core, the compiler the tests use), so the test can SIGKILL it.
 */
const SERVICE_SCRIPT = (root: string) => String.raw`
import { LocalProcessRunner } from ${JSON.stringify(pathToFileURL(path.join(root, 'libs/runners/src/index.ts')).href)};
import { readFileSync } from 'node:fs';
const [dataDir, container, pids, then] = process.argv.slice(2);
const runner = new LocalProcessRunner({ dataDir, cwd: dataDir, slots: 1, sampleIntervalMs: 10 });
// "exit": the service exits (as after its shutdown grace) once its container is up.
const exitWhenUp = () => (readFileSync(pids, 'utf8') ? process.exit(0) : setTimeout(exitWhenUp, 10));
if (then === 'exit') exitWhenUp();
await runner.run({
  role: 'ingester', runId: 'run-1', batchIndex: 0, attempt: 1,
  command: [process.execPath, container, 'sleeper', pids],
  limits: { timeout_seconds: 600, memory: '256m', cpu: '1' },
  env: {}, dirs: { in: 'a/in', out: 'a/out', files: 'a/files' },
});
`;

const TS_LOADER = (root: string) => String.raw`
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
const root = ${JSON.stringify(root)};
const swc = createRequire(root + '/package.json')('@swc/core');
export async function resolve(specifier, context, next) {
  const lib = /^#osa\/([\w-]+)$/.exec(specifier);
  if (lib) return { url: pathToFileURL(root + '/libs/' + lib[1] + '/src/index.ts').href, shortCircuit: true };
  if (context.parentURL?.endsWith('.ts') && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(ts)) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  const { code } = swc.transformSync(readFileSync(file, 'utf8'), {
    filename: file,
    jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
    module: { type: 'es6' },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
`;

interface Recorded {
  pid: number;
  startTicks: number;
}

/** True while the recorded process runs (same pid and start time, not a zombie). */
function isAlive({ pid, startTicks }: Recorded): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]) === startTicks && fields[0] !== 'Z' && fields[0] !== 'X';
  } catch {
    return false;
  }
}

describe(`${LocalProcessRunner.name} and processes that escape the container`, () => {
  let dir: string;
  let dataDir: string;
  let container: string;
  let pidsFile: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'osa-escapes-'));
    dataDir = path.join(dir, 'data');
    container = path.join(dir, 'container.mjs');
    pidsFile = path.join(dir, 'pids');
    await writeFile(container, CONTAINER_SCRIPT);
    await writeFile(pidsFile, '');
  });

  afterEach(async () => {
    // Whatever the code under test left behind must not outlive the test.
    for (const p of await recorded()) if (isAlive(p)) process.kill(p.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function recorded(): Promise<Recorded[]> {
    const text = await readFile(pidsFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [pid, startTicks] = line.split(' ').map(Number);
        return { pid: pid!, startTicks: startTicks! };
      });
  }

  const request = (mode: string, timeoutSeconds = 30): ContainerRunRequest => ({
    role: 'ingester',
    runId: 'run-1',
    batchIndex: 0,
    attempt: 1,
    command: [process.execPath, container, 'main', mode, pidsFile],
    limits: { timeout_seconds: timeoutSeconds, memory: '256m', cpu: '1' },
    env: {},
    dirs: { in: 'a/in', out: 'a/out', files: 'a/files' },
  });

  const newRunner = () => new LocalProcessRunner({ dataDir, cwd: dir, slots: 1, sampleIntervalMs: 10 });

  it('ends the run when the first process exits, though a setsid child ignoring SIGTERM holds its output, and kills that child', async () => {
    const result = await newRunner().run(request('hold-stdout-exit'));
    expect(result.exitCode).toBe(0);
    expect(result.logTail).toEqual(expect.arrayContaining(['sleeper up', 'main done']));
    const processes = await recorded();
    expect(processes).toHaveLength(2);
    expect(processes.filter(isAlive)).toEqual([]);
  }, 20_000);

  it('ends the run at its timeout, though a setsid child ignoring SIGTERM holds its output, and leaves no process of it', async () => {
    const failure = await rejection(newRunner().run(request('hold-stdout-stay', 1)), TransientError);
    expect(failure).toBeInstanceOf(TransientError);
    expect(failure.kind).toBe(ErrorKind.Timeout);
    expect(failure.logTail).toEqual(expect.arrayContaining(['sleeper up', 'main done']));
    const processes = await recorded();
    expect(processes).toHaveLength(2);
    expect(processes.filter(isAlive)).toEqual([]);
  }, 20_000);

  it('kills a detached child with no output when the container exits 0', async () => {
    const result = await newRunner().run(request('detached-exit'));
    expect(result.exitCode).toBe(0);
    const processes = await recorded();
    expect(processes).toHaveLength(2);
    expect(processes.filter(isAlive)).toEqual([]);
  }, 20_000);

  it('kills a child that cleared its environment and left the session, found through its parent', async () => {
    const failure = await rejection(newRunner().run(request('clean-env-stay', 1)), TransientError);
    expect(failure.kind).toBe(ErrorKind.Timeout);
    const processes = await recorded();
    expect(processes).toHaveLength(2);
    expect(processes.filter(isAlive)).toEqual([]);
  }, 20_000);

  it('counts the memory of a detached child against the limit, and kills it with the container', async () => {
    const failure = await rejection(newRunner().run({ ...request('detached-hog-stay'), memoryBytes: 150 * 1024 ** 2 }), OOMError);
    expect(failure).toBeInstanceOf(OOMError);
    const processes = await recorded();
    expect(processes).toHaveLength(2);
    expect(processes.filter(isAlive)).toEqual([]);
  }, 20_000);

  /** Starts a service process that runs one container and waits until the container is up. */
  async function serviceWithItsContainerRunning(
    then: 'exit' | 'stay',
  ): Promise<{ service: ChildProcess; exited: Promise<unknown>; container: Recorded }> {
    await writeFile(path.join(dir, 'ts-loader.mjs'), TS_LOADER(REPO_ROOT));
    await writeFile(
      path.join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'ts-loader.mjs')).href)});\n`,
    );
    await writeFile(path.join(dir, 'service.mjs'), SERVICE_SCRIPT(REPO_ROOT));
    const service = spawn(
      process.execPath,
      ['--import', path.join(dir, 'register.mjs'), path.join(dir, 'service.mjs'), dataDir, container, pidsFile, then],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let serviceErrors = '';
    service.stderr.on('data', (chunk: Buffer) => (serviceErrors += chunk.toString()));
    const exited = new Promise((resolve) => service.on('exit', resolve));
    const [started] = await waitFor('the service to start its container', async () => {
      const processes = await recorded();
      if (processes.length > 0) return processes;
      if (service.exitCode !== null && then === 'stay') throw new Error(`the service exited: ${serviceErrors}`);
      return undefined;
    });
    return { service, exited, container: started! };
  }

  /** A service SIGKILLed while its container runs; the container lives on. */
  async function serviceKilledWithItsContainerRunning(): Promise<Recorded> {
    const { service, exited, container: orphan } = await serviceWithItsContainerRunning('stay');
    service.kill('SIGKILL');
    await exited;
    expect(isAlive(orphan)).toBe(true);
    return orphan;
  }

  it('kills the containers of a service that exits while they run', async () => {
    const { exited, container: left } = await serviceWithItsContainerRunning('exit');
    await exited;
    await waitFor('the container of the exited service to be killed', () => !isAlive(left), { timeoutMs: 10_000 });
  }, 30_000);

  it('reaps, on start, the container of a service killed with SIGKILL, and frees its slot', async () => {
    const orphan = await serviceKilledWithItsContainerRunning();
    const next = newRunner();
    expect(await next.capacity()).toEqual({ available: true });
    expect(isAlive(orphan)).toBe(false);
  }, 30_000);

  it('kills the container of a service that died since it started before it runs one', async () => {
    const runner = newRunner();
    expect(await runner.capacity()).toEqual({ available: true });
    const orphan = await serviceKilledWithItsContainerRunning();
    await runner.run(request('detached-exit'));
    expect(isAlive(orphan)).toBe(false);
  }, 30_000);
});
