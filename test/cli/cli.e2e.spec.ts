import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { countingConvention, PipelineHarness, REPO_ROOT } from '../support/pipeline-harness.js';
import { buildServices } from '../support/process-harness.js';

const run = promisify(execFile);

/** The built CLI as operators run it, against the stages running with the same configuration. */
describe('osa-ingest CLI', () => {
  let harness: PipelineHarness;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    buildServices();
    harness = await PipelineHarness.start('cli');
    env = {
      ...process.env,
      REDIS_URL: harness.config.redisUrl,
      DATABASE_URL: harness.config.databaseUrl,
      QUEUE_PREFIX: harness.config.queuePrefix,
      DATA_DIR: harness.config.dataDir,
    };
  }, 120_000);
  afterAll(() => harness.stop());

  const cli = (...args: string[]) => run(process.execPath, [path.join(REPO_ROOT, 'dist/tools/cli/main.js'), ...args], { env, cwd: REPO_ROOT });

  it('applies a convention, starts a run, follows it to the end and shows its status', async () => {
    const file = path.join(harness.config.dataDir, 'cli-convention.json');
    await writeFile(file, JSON.stringify(countingConvention('cli-run', { total: 25, page_size: 10, reject_every: 5 })));
    expect((await cli('conventions', 'apply', '-f', file)).stdout).toContain('convention "cli-run" registered (1 hooks)');
    expect((await cli('conventions', 'list')).stdout).toContain('cli-run\t1 hooks');

    const follow = await cli('start', 'cli-run', '--follow');
    // Not a terminal: one plain progress line per change on stderr, then the run card.
    expect(follow.stderr).toMatch(/run [0-9a-f]{8} completed: batches sourced 3 .* published 3 failed 0; records sourced 25 published 20 rejected 5/);
    expect(follow.stdout).toContain('status     completed');
    expect(follow.stdout).toContain('hook       flag: passed 20, rejected 5, errored 0, missing 0, invalid lines 0');
    const runId = /^run ([0-9a-f-]{36}) started/m.exec(follow.stdout)![1]!;

    const status: unknown = JSON.parse((await cli('status', runId, '--json')).stdout);
    expect(status).toMatchObject({ id: runId, status: 'completed', counters: { published: 20, rejected: 5 } });
    expect((await cli('list')).stdout).toContain(`${runId}\tcli-run\tcompleted`);
    expect((await cli('list', '--status', 'completed', '--convention', 'cli-run')).stdout).toContain(`${runId}\tcli-run\tcompleted`);
    expect((await cli('list', '--status', 'running')).stdout).not.toContain(runId);
    expect((await cli('list', '--convention', 'other')).stdout.trim()).toBe('(no runs)');
  });

  it('refuses bad input with a message that names it, and a non-zero exit', async () => {
    const bad = await cli('start', 'cli-run', '--limit', 'ten').catch((err: { code: number; stderr: string }) => err);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('--limit must be a positive whole number, got "ten"');
    const badFile = path.join(harness.config.dataDir, 'bad.yaml');
    await writeFile(badFile, 'id: Bad Id\n');
    const refused = await cli('conventions', 'apply', '-f', badFile).catch((err: { code: number; stderr: string }) => err);
    expect((refused as { stderr: string }).stderr).toContain('id: must be 1-40 lowercase letters');
    const badStatus = await cli('list', '--status', 'stuck').catch((err: { code: number; stderr: string }) => err);
    expect(badStatus).toMatchObject({ code: 2 });
    expect((badStatus as { stderr: string }).stderr).toContain('--status must be one of pending, running, completed, got "stuck"');
  });
});
