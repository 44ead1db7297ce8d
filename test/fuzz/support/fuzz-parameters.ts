import fc from 'fast-check';

/**
 * fast-check parameters for one property. CI runs a fixed seed and a bounded number of cases;
 * FUZZ_RUNS asks for more cases (with a fresh seed unless FUZZ_SEED is set), and FUZZ_SEED with
 * FUZZ_PATH replays exactly the failing case fast-check printed.
 */
export function fuzzParameters<T>(ciSeed: number, ciRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const runs = positiveInteger('FUZZ_RUNS');
  const seed = integer('FUZZ_SEED');
  const replayPath = process.env.FUZZ_PATH;
  return {
    ...extra,
    seed: seed ?? (runs === undefined ? ciSeed : Date.now() ^ (Math.random() * 0x100000000)),
    numRuns: runs ?? ciRuns,
    ...(replayPath ? { path: replayPath } : {}),
  };
}

/**
 * For properties whose failing cases are slow (a hang costs its whole deadline): in CI, stop
 * searching and shrinking after `ms` and report the smallest failure found by then. A case
 * found before the limit is reported; a run cut short without a failure passes, as fast-check
 * does. Long FUZZ_RUNS runs are not cut.
 */
export function boundedTime<T>(ms: number): fc.Parameters<T> {
  return positiveInteger('FUZZ_RUNS') === undefined ? { plugins: [fc.interruptAfterTimeLimit(ms)] } : {};
}

/** How long one property may take: the CI budget, or a day for a long FUZZ_RUNS run. */
export function fuzzTimeoutMs(ciMs: number): number {
  return positiveInteger('FUZZ_RUNS') === undefined ? ciMs : 24 * 3600 * 1000;
}

function integer(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return Number(raw);
}

function positiveInteger(name: string): number | undefined {
  const value = integer(name);
  if (value !== undefined && value < 1) throw new Error(`${name} must be at least 1, got ${value}`);
  return value;
}
