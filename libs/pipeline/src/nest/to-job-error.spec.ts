import { sql } from 'drizzle-orm';
import { UnrecoverableError } from 'bullmq';
import { ErrorKind, PermanentError } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { toJobError } from './stage-processor.js';

const RECORD_VALUE = 'value-from-a-record-0123456789';

/** What BullMQ keeps of a failed attempt (its reason and stack, shown in Bull Board). */
describe(toJobError.name, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('to_job_error');
  });
  afterAll(() => database.drop());

  it('keeps a database error retryable, with neither the query nor its parameters in message or stack', async () => {
    const err = await database.db.execute(sql`select ${JSON.stringify({ value: RECORD_VALUE, nul: '\u0000' })}::jsonb`).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.stack).toContain(RECORD_VALUE);
    const jobError = toJobError(err);
    expect(jobError).not.toBeInstanceOf(UnrecoverableError);
    expect(jobError.message).toMatch(/^\[unexpected\] database error 22P05: unsupported Unicode escape sequence$/);
    expect(jobError.stack).not.toContain(RECORD_VALUE);
    expect(jobError.stack).not.toMatch(/select|params/i);
    expect(jobError.stack?.split('\n')[0]).toBe(`${err!.name}: ${jobError.message}`);
    expect(
      jobError.stack
        ?.split('\n')
        .slice(1)
        .every((line) => /^\s+at /.test(line)),
    ).toBe(true);
  });

  it('turns a permanent error into an UnrecoverableError with its kind in the reason', () => {
    const jobError = toJobError(new PermanentError('convention "x" has no ingester', ErrorKind.InvalidConvention));
    expect(jobError).toBeInstanceOf(UnrecoverableError);
    expect(jobError.message).toBe('[invalid_convention] convention "x" has no ingester');
  });
});
