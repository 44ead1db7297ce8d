import { Redis } from 'ioredis';
import pg from 'pg';

/** Says whether Redis and Postgres answer, and how to start them when they do not. */
export async function checkServices(redisUrl: string, databaseUrl: string): Promise<string[]> {
  const problems: string[] = [];
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(
      `Redis at ${redisUrl} is not reachable (${(err as Error).message}). Start it with:\n` +
        '    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    );
  } finally {
    redis.disconnect();
  }
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    problems.push(
      `PostgreSQL at ${admin.host} is not reachable (${(err as Error).message}). Start it with:\n` +
        '    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return problems;
}
