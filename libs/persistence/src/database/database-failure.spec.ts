import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { describeFailure, ErrorKind } from '#osa/domain';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { conventions } from '../schema/tables.js';

const RECORD_VALUE = 'value-from-a-record-0123456789';

/** What a failed database call leaves in the ledger: Postgres's own words, never the SQL or record data. */
describe('describeFailure of database errors', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('db_failure');
  });
  afterAll(() => database.drop());

  async function failureOf(statement: () => Promise<unknown>) {
    try {
      await statement();
    } catch (err) {
      return describeFailure(err);
    }
    throw new Error('the statement succeeded');
  }

  it('keeps the server message and SQLSTATE of a failed jsonb insert, not the query nor its parameters', async () => {
    const spec = { id: 'x', note: RECORD_VALUE, bad: 'nul \u0000 here', padding: 'p'.repeat(5000) };
    const failure = await failureOf(() => database.db.insert(conventions).values({ id: 'x', spec: spec as never }));
    expect(failure).toEqual({ kind: ErrorKind.Unexpected, reason: 'database error 22P05: unsupported Unicode escape sequence', logTail: [] });
  });

  it('keeps the server message of an error inside a transaction, bounded', async () => {
    const failure = await failureOf(() =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`select ${RECORD_VALUE}::uuid`);
      }),
    );
    expect(failure.reason).toMatch(/^database error 22P02: invalid input syntax for type uuid/);
    expect(failure.reason).not.toMatch(/select|\$1|params/i);
    expect(failure.reason.length).toBeLessThanOrEqual(2000);
  });

  it('names the driver cause of a query that got no answer, without the query', async () => {
    const failure = await failureOf(async () => {
      const broken = drizzle({ client: { query: () => Promise.reject(new Error('Connection terminated unexpectedly')) } as never });
      await broken.execute(sql`select ${RECORD_VALUE}`);
    });
    expect(failure.reason).toBe('database query failed: Connection terminated unexpectedly');
  });
});
