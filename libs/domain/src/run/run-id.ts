import { z } from 'zod';

/** A run id wherever one enters (HTTP path, queue payload, CLI): a UUID, as the database makes them. */
export const runIdSchema = z.uuid({ error: 'must be a run id (a UUID)' });
