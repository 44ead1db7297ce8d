/**
 * `npm run bench`: runs each benchmark in a child process of its own (so peak RSS and leftover
 * state never leak from one into the next), bounded in time, and prints every figure as a ratio
 * to a floor measured in the same run. `node dist/tools/bench/main.js publish scale` runs a
 * subset; `--json <file>` also writes the results as JSON. See docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type BenchResult, machine } from './common.js';

const BENCHES: Record<string, { load: () => Promise<{ run(): Promise<BenchResult> }>; timeoutMs: number }> = {
  publish: { load: () => import('./publish.bench.js'), timeoutMs: 120_000 },
  overhead: { load: () => import('./overhead.bench.js'), timeoutMs: 150_000 },
  pipelining: { load: () => import('./pipelining.bench.js'), timeoutMs: 90_000 },
  memory: { load: () => import('./memory.bench.js'), timeoutMs: 180_000 },
  scale: { load: () => import('./scale.bench.js'), timeoutMs: 240_000 },
  'hostile-hooks': { load: () => import('./hostile-hooks.bench.js'), timeoutMs: 600_000 },
};
const RESULT_TAG = 'BENCH_RESULT ';

async function child(name: string): Promise<void> {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`unknown benchmark "${name}"`);
  const result = await (await bench.load()).run();
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

function runChild(name: string, timeoutMs: number): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of d.toString().split('\n')) if (line && !line.startsWith(RESULT_TAG)) process.stderr.write(`  [${name}] ${line}\n`);
    });
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} exceeded its ${timeoutMs / 1000} s bound and was stopped`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_TAG));
      if (line) resolve(JSON.parse(line.slice(RESULT_TAG.length)) as BenchResult);
      else reject(new Error(`${name} exited with code ${code} without a result`));
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!);
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  const names = args.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
  const selected = names.length ? names : Object.keys(BENCHES);
  const info = machine();
  console.log(`osa-ingest benchmarks — ${new Date().toISOString()}`);
  console.log(`machine: nproc ${info.nproc}, ${info.cpu}, mem ${info.memory}, node ${info.node}, ${info.postgres}, ${info.redis}\n`);
  const started = Date.now();
  const results: BenchResult[] = [];
  let failed = 0;
  for (const name of selected) {
    const bench = BENCHES[name];
    if (!bench) throw new Error(`unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})`);
    const t = Date.now();
    try {
      const result = await runChild(name, bench.timeoutMs);
      results.push(result);
      console.log(
        `${result.pass ? 'PASS' : 'MISS'}  ${name.padEnd(11)} ratio ${String(result.ratio).padEnd(6)} (target ${result.target})  ${result.summary}  [${Math.round((Date.now() - t) / 1000)} s]`,
      );
      for (const [key, value] of Object.entries(result.details)) console.log(`        ${key}: ${JSON.stringify(value)}`);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${name.padEnd(11)} ${(err as Error).message}`);
    }
  }
  console.log(
    `\n${results.filter((r) => r.pass).length} met, ${results.filter((r) => !r.pass).length} missed, ${failed} failed to run — ${Math.round((Date.now() - started) / 1000)} s`,
  );
  if (jsonFile) await writeFile(jsonFile, JSON.stringify({ date: new Date().toISOString(), machine: info, results }, null, 2));
  if (failed) process.exitCode = 1;
}

main().then(
  () => {
    if (process.argv[2] === '--child') process.exit(0);
  },
  (err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  },
);
