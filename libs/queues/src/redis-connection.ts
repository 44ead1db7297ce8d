import type { RedisOptions } from 'bullmq';

/**
 * ioredis options from a redis:// URL. Workers need `maxRetriesPerRequest: null`: BullMQ refuses a
 * worker connection that has it set, as its blocking commands must wait out a Redis outage, not
 * fail after a few retries.
 */
export function redisConnection(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isFinite(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}
