import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErrorKind, OOMError, PermanentError, TransientError } from '#osa/domain';
import { rejection } from '#osa/testing';
import type { ContainerRunRequest } from '../port/container-runner.port.js';
import { LocalProcessRunner } from './local-process.runner.js';

describe(LocalProcessRunner.name, () => {
  let dataDir: string;
  let runner: LocalProcessRunner;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'osa-local-runner-'));
    runner = new LocalProcessRunner({ dataDir, cwd: dataDir, slots: 1, sampleIntervalMs: 10 });
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const request = (script: string, overrides: Partial<ContainerRunRequest> = {}): ContainerRunRequest => ({
    role: 'ingester',
    runId: 'run-1',
    batchIndex: 3,
    attempt: 1,
    command: ['node', '-e', script],
    limits: { timeout_seconds: 10, memory: '256m', cpu: '0.5' },
    env: { OSA_LIMIT: '7', OSA_BATCH_INDEX: '3', OSA_RUN_ID: 'run-1' },
    dirs: { in: 'a/in', out: 'a/out', files: 'a/files' },
    ...overrides,
  });

  describe('run', () => {
    it('gives the container the contract env and directories, and runs argv without a shell', async () => {
      const script = `require('fs').writeFileSync(process.env.OSA_OUT + '/env.json', JSON.stringify({ env: process.env, argv: process.argv.slice(1) }))`;
      const result = await runner.run(request(script, { command: ['node', '-e', script, '$(echo injected)'] }));
      expect(result.exitCode).toBe(0);
      const seen = JSON.parse(await readFile(path.join(dataDir, 'a/out/env.json'), 'utf8')) as { env: Record<string, string>; argv: string[] };
      expect(seen.env).toMatchObject({
        OSA_IN: path.join(dataDir, 'a/in'),
        OSA_OUT: path.join(dataDir, 'a/out'),
        OSA_FILES: path.join(dataDir, 'a/files'),
        OSA_LIMIT: '7',
        OSA_BATCH_INDEX: '3',
        OSA_RUN_ID: 'run-1',
      });
      expect(seen.argv).toEqual(['$(echo injected)']);
    });

    it('keeps the last log lines of a failing ingester and treats its exit as transient', async () => {
      const failure = await rejection(runner.run(request(`console.log('one'); console.error('two'); process.exit(3)`)), TransientError);
      expect(failure).toBeInstanceOf(TransientError);
      expect(failure).toMatchObject({ kind: ErrorKind.IngesterExit, message: 'ingester exited with code 3' });
      expect(failure.logTail).toEqual(expect.arrayContaining(['one', 'two']));
    });

    it('treats an exit code the convention lists as permanent', async () => {
      const failure = await rejection(runner.run(request('process.exit(3)', { permanentExitCodes: [3] })), PermanentError);
      expect(failure).toBeInstanceOf(PermanentError);
    });

    it('fails a hook permanently on a non-zero exit', async () => {
      const failure = await rejection(runner.run(request('process.exit(2)', { role: 'hook', hook: 'check' })), PermanentError);
      expect(failure).toBeInstanceOf(PermanentError);
      expect(failure.message).toBe('hook "check" exited with code 2');
    });

    it('kills a container that runs past its timeout, as a transient failure', async () => {
      const failure = await rejection(
        runner.run(request('setTimeout(() => {}, 60000)', { limits: { timeout_seconds: 1, memory: '256m', cpu: '1' } })),
        TransientError,
      );
      expect(failure).toBeInstanceOf(TransientError);
      expect(failure.kind).toBe(ErrorKind.Timeout);
    });

    it('kills the process tree that passes its memory limit, as the OOM killer would', async () => {
      // The memory is held by a child process: the whole tree counts.
      const child = `const a=[];for(let i=0;i<300;i++)a.push(Buffer.alloc(1<<20,1));setTimeout(()=>{},5000)`;
      const script = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'inherit' }); setTimeout(() => {}, 10000)`;
      const failure = await rejection(runner.run(request(script, { memoryBytes: 150 * 1024 ** 2 })), OOMError);
      expect(failure).toBeInstanceOf(OOMError);
      expect(failure.memoryLimitBytes).toBe(150 * 1024 ** 2);
    });

    it('stops a container whose job is cancelled, also when it was cancelled before it started', async () => {
      const controller = new AbortController();
      const running = rejection(runner.run(request('setTimeout(() => {}, 60000)', { signal: controller.signal })), TransientError);
      controller.abort();
      const cancelledBefore = await rejection(runner.run(request('setTimeout(() => {}, 60000)', { signal: AbortSignal.abort() })), TransientError);
      for (const failure of [await running, cancelledBefore]) {
        expect(failure).toBeInstanceOf(TransientError);
        expect(failure.message).toBe('ingester was stopped because its job was cancelled');
      }
    });

    it('reports a program that cannot start as a permanent configuration error', async () => {
      const failure = await rejection(runner.run(request('', { command: ['/no/such/program'] })), PermanentError);
      expect(failure).toBeInstanceOf(PermanentError);
      expect(failure.kind).toBe(ErrorKind.InvalidConvention);
    });
  });

  describe('capacity', () => {
    it('reports its slots busy while a container runs', async () => {
      expect(await runner.capacity()).toEqual({ available: true });
      const running = runner.run(request('setTimeout(() => {}, 400)'));
      await new Promise((r) => setImmediate(r));
      let seen;
      for (let i = 0; i < 100 && (seen = await runner.capacity()).available; i++) await new Promise((r) => setTimeout(r, 5));
      expect(seen).toMatchObject({ available: false, signal: 'local_slots' });
      await running;
      expect(await runner.capacity()).toEqual({ available: true });
    });
  });
});
