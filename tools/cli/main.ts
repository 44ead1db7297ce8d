import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ConfigError, loadConfig } from '#osa/config';
import { conventionIdSchema, RunStatus, runIdSchema } from '#osa/domain';
import { ConventionRepository, openDatabase, RunLedger, RunReadModel } from '#osa/persistence';
import { replayCommand } from './replay-command.js';
import { applyConventionCommand, awaitRunId, followRun, migrateCommand, publishStart, statusCommand } from './commands.js';

const USAGE = `usage: osa-ingest <command>

  migrate                                   apply database migrations (idempotent)
  conventions apply -f FILE                 register or update a convention (YAML or JSON)
  conventions list                          list conventions
  start CONVENTION [--batch-size N] [--limit N] [--follow]
                                            publish a start-ingest job (and follow the run)
  status RUN_ID                             show a run: counts, per-hook outcomes, failures
  replay RUN_ID [--batch N ...] [--hook NAME] [--memory SIZE] [--image IMAGE]
                                            re-run the batches that failed in the hooks or the
                                            publisher (reopens a completed run); the overrides
                                            change the replayed hooks' limits on the run
  resume RUN_ID                             lift a failure-breaker pause so the run pulls again
  list [--status STATUS] [--convention ID]  list recent runs (the latest 50), narrowed to a status
                                            (pending, running, completed) and a convention

options: --json for machine-readable output. Configuration comes from the environment
(REDIS_URL, DATABASE_URL, QUEUE_PREFIX, ...; see README).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string', short: 'f' },
      'batch-size': { type: 'string' },
      limit: { type: 'string' },
      follow: { type: 'boolean' },
      batch: { type: 'string', multiple: true },
      hook: { type: 'string' },
      memory: { type: 'string' },
      image: { type: 'string' },
      status: { type: 'string' },
      convention: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig();
  const print = (text: string, json: unknown) => console.log(values.json ? JSON.stringify(json, null, 2) : text);

  if (command === 'migrate') {
    const message = await migrateCommand(config);
    print(message, { ok: true, message });
    return 0;
  }
  const database = openDatabase(config.databaseUrl, { max: 2, applicationName: 'osa-cli' });
  try {
    switch (command) {
      case 'conventions': {
        if (sub === 'apply') {
          if (!values.file) throw new UsageError('conventions apply needs -f FILE');
          const message = await applyConventionCommand(database.db, values.file);
          print(message, { ok: true, message });
          return 0;
        }
        if (sub === 'list') {
          const list = await new ConventionRepository().list(database.db);
          print(
            list.map((c) => `${c.id}\t${c.spec.hooks.length} hooks\tupdated ${c.updatedAt.toISOString()}`).join('\n') || '(no conventions)',
            list,
          );
          return 0;
        }
        throw new UsageError(`unknown conventions command "${sub ?? ''}"`);
      }
      case 'start': {
        if (!sub) throw new UsageError('start needs a convention id');
        const jobId = await publishStart(config, {
          conventionId: argument(conventionIdSchema, sub, 'CONVENTION'),
          batchSize: optionalInt(values['batch-size'], '--batch-size'),
          limit: optionalInt(values.limit, '--limit'),
        });
        if (!values.follow) {
          print(`published start-ingest job ${jobId}`, { jobId });
          return 0;
        }
        const runId = await awaitRunId(config, jobId);
        if (!values.json) console.log(`run ${runId} started`);
        const run = await followRun(database.db, runId, process.stderr);
        const status = await statusCommand(database.db, runId);
        print(status!.text, run);
        return run.status === 'completed' ? 0 : 1;
      }
      case 'status': {
        if (!sub) throw new UsageError('status needs a run id');
        const status = await statusCommand(database.db, argument(runIdSchema, sub, 'RUN_ID'));
        if (!status) {
          if (values.json) print('', { error: `no run ${sub}` });
          else console.error(`no run ${sub}`);
          return 1;
        }
        print(status.text, { ...status.run, issuesNotListed: status.issuesNotListed });
        return 0;
      }
      case 'replay': {
        if (!sub) throw new UsageError('replay needs a run id');
        const { hook, memory, image } = values;
        const { result, text, ok } = await replayCommand(config, database.db, {
          runId: argument(runIdSchema, sub, 'RUN_ID'),
          batchIndexes: values.batch?.map((b) => optionalIndex(b)),
          override: hook || memory || image ? { hook, memory, image } : undefined,
        });
        if (ok || values.json) print(text, result);
        else console.error(text);
        return ok ? 0 : 1;
      }
      case 'resume': {
        if (!sub) throw new UsageError('resume needs a run id');
        const result = await new RunLedger(database.db).resume(argument(runIdSchema, sub, 'RUN_ID'));
        if (result.outcome !== 'resumed') {
          const message =
            result.outcome === 'not-found' ? `no run ${sub}` : result.outcome === 'not-paused' ? `run ${sub} is not paused` : `no active run ${sub}`;
          if (values.json) print('', { error: message });
          else console.error(message);
          return 1;
        }
        print(`run ${result.run.id} resumed: the failure breaker now judges only the batches that follow`, result.run);
        return 0;
      }
      case 'list': {
        const { items: runs } = await new RunReadModel(database.db).listRuns({
          status: values.status === undefined ? undefined : runStatus(values.status),
          conventionId: values.convention === undefined ? undefined : argument(conventionIdSchema, values.convention, '--convention'),
          limit: 50,
          offset: 0,
        });
        print(
          runs
            .map(
              ({ id, conventionId, status, counters: c }) =>
                `${id}\t${conventionId}\t${status}\tbatches ${c.batchesIngested}/${c.batchesPublished}/${c.batchesFailed}\tpublished ${c.published}`,
            )
            .join('\n') || '(no runs)',
          runs,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    await database.close();
  }
}

class UsageError extends Error {}

/** An id given on the command line, checked as every other entry point checks it. */
function argument(schema: z.ZodType<string>, value: string, name: string): string {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${name} ${result.error.issues[0]?.message ?? 'is not valid'}`);
  return result.data;
}

function runStatus(value: string): RunStatus {
  const statuses: readonly string[] = Object.values(RunStatus);
  if (!statuses.includes(value)) throw new UsageError(`--status must be one of ${statuses.join(', ')}, got "${value}"`);
  return value as RunStatus;
}

function optionalIndex(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--batch must be a batch index (0, 1, …), got "${value}"`);
  return n;
}

function optionalInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (process.argv.includes('--json')) console.log(JSON.stringify({ error: err.message }));
    else if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
    else if (err instanceof ConfigError) console.error(err.message);
    else console.error(`error: ${err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
