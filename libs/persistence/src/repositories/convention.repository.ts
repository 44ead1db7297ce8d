import { asc, eq, sql } from 'drizzle-orm';
import type { Convention } from '#osa/domain';
import type { Executor } from '../database/database.js';
import { conventions } from '../schema/tables.js';

export class ConventionRepository {
  /** Registers a convention or replaces its spec; runs already started keep their own copy. */
  async upsert(db: Executor, convention: Convention): Promise<{ created: boolean }> {
    const [row] = await db
      .insert(conventions)
      .values({ id: convention.id, spec: convention })
      .onConflictDoUpdate({ target: conventions.id, set: { spec: convention, updatedAt: sql`now()` } })
      .returning({ created: sql<boolean>`(xmax = 0)` });
    return { created: row!.created };
  }

  async find(db: Executor, id: string): Promise<Convention | undefined> {
    const [row] = await db.select().from(conventions).where(eq(conventions.id, id));
    return row?.spec;
  }

  async list(db: Executor): Promise<Array<{ id: string; spec: Convention; updatedAt: Date }>> {
    return db.select({ id: conventions.id, spec: conventions.spec, updatedAt: conventions.updatedAt }).from(conventions).orderBy(asc(conventions.id));
  }
}
