import { sql } from 'drizzle-orm';
import { UnrecoverableError } from 'bullmq';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { toJobError } from '#osa/pipeline';

const RECORD_VALUE = 'value-from-a-record-0123456789';

/**
 * What BullMQ keeps of a failed attempt (its reason and stack, shown in Bull Board) for a real
 * database error; every failure kind is covered by test/unit/retry-decision.spec.ts.
 */
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
});
