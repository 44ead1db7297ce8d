import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RECORDER = path.join(ROOT, 'test/deploy/fixtures/record-module-loads.mjs');
const run = promisify(execFile);

/** Test support and test-only code, by path: none of it may ship or be loaded by what ships. */
const TEST_CODE = /(^|\/)(test|testing)\/|simulator|harness|\.spec\.|\.test\./;
const KUBERNETES_CLIENT = /\/node_modules\/@kubernetes\/client-node\//;

/**
 * What `npm run build` puts in dist/ (the image copies dist/ as it is), built afresh into a
 * directory of its own so files an older build left in the repository's dist/ cannot hide or fake
 * anything, and the processes that ship started from it.
 */
describe('the production build', () => {
  let outRoot: string;
  let files: string[];

  beforeAll(async () => {
    outRoot = await mkdtemp(path.join(os.tmpdir(), 'osa-build-'));
    // Each project's tsconfig names its own outDir (dist/<project root>), so `npm run build`'s
    // compile (`tsc -b tsconfig.build.json`) runs on a copy of the TypeScript sources and tsconfigs.
    const sources = async (source: string) =>
      path.basename(source) !== 'node_modules' && ((await stat(source)).isDirectory() || /(\.ts|\/tsconfig[\w.]*\.json)$/.test(source));
    for (const entry of ['apps', 'libs', 'tools', 'tsconfig.base.json', 'tsconfig.build.json']) {
      await cp(path.join(ROOT, entry), path.join(outRoot, entry), { recursive: true, filter: sources });
    }
    await symlink(path.join(ROOT, 'node_modules'), path.join(outRoot, 'node_modules'), 'dir');
    // The repository's package.json: its "type" makes the build ES modules, and its map of
    // `#osa/*` to ./dist/... resolves the libraries to this build.
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(outRoot, 'package.json'), JSON.stringify({ name: pkg.name, type: pkg.type, imports: pkg.imports }));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
      cwd: outRoot,
      stdio: 'inherit',
    });
    files = (await readdir(path.join(outRoot, 'dist'), { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(path.join(outRoot, 'dist'), path.join(entry.parentPath, entry.name)));
  }, 300_000);
  afterAll(() => (outRoot ? rm(outRoot, { recursive: true, force: true }) : undefined));

  /** The URLs of every module `node <script> ...args` loaded, from the build's directory. */
  async function modulesLoaded(script: string, ...args: string[]): Promise<{ stdout: string; modules: string[] }> {
    const log = path.join(outRoot, `modules-${path.basename(script)}-${args.join('_')}.log`);
    const { stdout } = await run(process.execPath, ['--import', RECORDER, path.join(outRoot, script), ...args], {
      cwd: outRoot,
      env: { PATH: process.env.PATH, OSA_MODULE_LOG: log },
    });
    return { stdout, modules: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
  }

  /** A loaded file's path inside this build or the repository, which is what TEST_CODE reads. */
  function repositoryPath(url: string): string {
    const file = fileURLToPath(url);
    const base = [outRoot, ROOT].find((dir) => file.startsWith(`${dir}${path.sep}`));
    return base ? path.relative(base, file) : file;
  }

  it('holds the services, libraries and tools, and no test support', () => {
    expect(files).toContain('tools/cli/main.js');
    expect(files).toContain('libs/runners/src/kubernetes/kubernetes-job.runner.js');
    expect(files.filter((file) => TEST_CODE.test(file))).toEqual([]);
    expect(new Set(files.map((file) => file.split('/')[0]))).toEqual(new Set(['apps', 'libs', 'tools']));
  });

  it('ships in the image only what runs: no scratch databases, benchmarks or test code', async () => {
    const image = imagePaths(await readFile(path.join(ROOT, 'docker/Dockerfile'), 'utf8'));
    const shipped = files.filter((file) => image.dist.some((dir) => dir === '' || file.startsWith(`${dir}/`)));
    const leftOut = files.filter((file) => !shipped.includes(file)).map((file) => file.split('/').slice(0, 2).join('/'));
    expect(new Set(leftOut)).toEqual(new Set(['tools/bench', 'tools/demo', 'tools/scratch', 'tools/tsconfig.tools.tsbuildinfo']));
    expect(shipped.filter((file) => TEST_CODE.test(file) || /^tools\/(scratch|bench)\//.test(file))).toEqual([]);
    // What docker/compose.yaml and the k8s manifests run is in it.
    for (const main of [
      'apps/ingester-runner/src/main.js',
      'apps/hook-runner/src/main.js',
      'apps/publisher/src/main.js',
      'apps/dashboard/src/main.js',
      'tools/cli/main.js',
    ])
      expect(shipped).toContain(main);
    // The sources the image copies from the repository hold no test or bench code either.
    for (const dir of image.repository) {
      const inRepo = (await readdir(path.join(ROOT, dir), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
      const names = inRepo.map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
      expect(names.filter((file) => TEST_CODE.test(file) || /(^|\/)(scratch|bench)\//.test(file))).toEqual([]);
    }
  });

  it('records a module load (checked on the Kubernetes runner, which loads the client)', async () => {
    const { modules } = await modulesLoaded('dist/libs/runners/src/kubernetes/index.js');
    expect(modules.some((url) => KUBERNETES_CLIENT.test(url))).toBe(true);
  });

  it('runs `osa-ingest --help` without loading the Kubernetes client or test support', async () => {
    const { stdout, modules } = await modulesLoaded('dist/tools/cli/main.js', '--help');
    expect(stdout).toContain('usage: osa-ingest <command>');
    expect(modules).toContainEqual(expect.stringMatching(/\/dist\/libs\/persistence\//));
    expect(modules.find((url) => KUBERNETES_CLIENT.test(url))).toBeUndefined();
    const ownCode = modules.filter((url) => url.startsWith('file:') && !url.includes('/node_modules/'));
    expect(ownCode.filter((url) => TEST_CODE.test(repositoryPath(url)))).toEqual([]);
  });
});

/**
 * What the runtime stage of docker/Dockerfile copies: build outputs below dist/ (relative to it)
 * and repository directories below tools/.
 */
function imagePaths(dockerfile: string): { dist: string[]; repository: string[] } {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const copies = [...runtime.matchAll(/^COPY\s+(.+)$/gm)].map((m) => m[1]!.trim().split(/\s+/));
  return {
    dist: copies
      .filter(([from, src]) => from === '--from=build' && src?.startsWith('/app/dist'))
      .map(([, src]) => src!.replace(/^\/app\/dist\/?/, '')),
    repository: copies.filter(([src]) => src?.startsWith('tools')).map(([src]) => src!),
  };
}
