import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('works with no environment at all, using the defaults for this machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379',
      runner: 'local',
      queuePrefix: 'osa',
      stages: { ingester: { retry: { attempts: 20, backoffBaseMs: 60_000, backoffCapMs: 300_000 } }, hooks: { retry: { attempts: 100 } } },
    });
  });

  it('names every variable that is wrong', () => {
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379', HOOK_CONCURRENCY: '0', RUNNER: 'docker' })).toThrow(ConfigError);
    try {
      loadConfig({ REDIS_URL: 'localhost:6379', HOOK_CONCURRENCY: '0', RUNNER: 'docker' });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('REDIS_URL="localhost:6379"');
      expect(message).toContain('HOOK_CONCURRENCY="0"');
      expect(message).toContain('RUNNER="docker"');
    }
  });
});
