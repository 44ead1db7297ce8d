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

  it('bounds container output: record, output file and session sizes, validated by name', () => {
    expect(loadConfig({}).containerOutput).toEqual({ maxLineBytes: 8 * 1024 ** 2, maxFileBytes: 4 * 1024 ** 3, maxSessionBytes: 1024 ** 2 });
    expect(loadConfig({ MAX_RECORD_BYTES: '65536', MAX_OUTPUT_FILE_BYTES: '1048576', MAX_SESSION_BYTES: '4096' }).containerOutput).toEqual({
      maxLineBytes: 65536,
      maxFileBytes: 1048576,
      maxSessionBytes: 4096,
    });
    expect(() => loadConfig({ MAX_RECORD_BYTES: '8MiB' })).toThrow('MAX_RECORD_BYTES="8MiB"');
    expect(() => loadConfig({ MAX_SESSION_BYTES: '-1' })).toThrow('MAX_SESSION_BYTES="-1"');
  });
});
