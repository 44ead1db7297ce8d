#!/usr/bin/env node
// Ingester for the geo-samples example convention: serves the bundled dataset one page per batch.
// Contract: reads $OSA_IN/config.json and $OSA_IN/session.json, writes $OSA_OUT/records.jsonl,
// $OSA_OUT/session.json (only while data remains) and each record's files under $OSA_FILES/<id>/.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const env = (name) => {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
};
function fail(message, code = 2) {
  console.error(`geo ingester: ${message}`);
  process.exit(code);
}
async function readJson(file, fallback) {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return fallback;
    fail(`${file} is unreadable: ${err.message}`);
  }
}

const inDir = env('OSA_IN');
const outDir = env('OSA_OUT');
const filesDir = env('OSA_FILES');
const batchIndex = Number(process.env.OSA_BATCH_INDEX ?? 0);
// Run by hand without OSA_LIMIT, a batch is bounded by the page size alone.
const limit = process.env.OSA_LIMIT === undefined ? Infinity : Number(process.env.OSA_LIMIT);
if (!(limit >= 0) || (limit !== Infinity && !Number.isInteger(limit)))
  fail(`OSA_LIMIT must be a non-negative integer, got "${process.env.OSA_LIMIT}"`);
const dataset = process.env.GEO_DATASET || fileURLToPath(new URL('data/samples.jsonl', import.meta.url));

const config = await readJson(path.join(inDir, 'config.json'), {});
const pageSize = config.page_size ?? 200;
if (!Number.isInteger(pageSize) || pageSize < 1) fail(`config.page_size must be a positive integer, got ${JSON.stringify(pageSize)}`);
if (config.sleep_ms) await sleep(config.sleep_ms);
// Lets tests make chosen batches fail the way a crashing source would, before any output exists.
if (config.fail_batches?.includes(batchIndex)) fail(`batch ${batchIndex} fails on purpose (config.fail_batches)`, config.fail_exit_code ?? 1);

const { offset = 0 } = await readJson(path.join(inDir, 'session.json'), {});
if (!Number.isInteger(offset) || offset < 0) fail(`session.json offset must be a non-negative integer, got ${JSON.stringify(offset)}`);
const take = Math.min(pageSize, limit);

// The measurements are derived from the sample id, so a re-run of a batch writes the same bytes.
function seededRandom(text) {
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ ch.codePointAt(0), 0x01000193);
  return () => {
    h = (h + 0x6d2b79f5) >>> 0;
    let t = Math.imul(h ^ (h >>> 15), h | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const COLUMNS = {
  water: [
    ['temperature_c', 2, 90],
    ['ph', 2, 10],
    ['conductivity_us_cm', 50, 5000],
  ],
  ice: [
    ['d18o_permil', -55, -25],
    ['dust_ppb', 1, 800],
    ['na_ppb', 5, 400],
  ],
  default: [
    ['sio2_wt_pct', 35, 78],
    ['al2o3_wt_pct', 8, 20],
    ['fe2o3_wt_pct', 0.5, 15],
  ],
};
function fileContents(sampleId, record, file) {
  if (file.name.endsWith('.csv')) {
    const random = seededRandom(sampleId);
    const columns = COLUMNS[record.material] ?? COLUMNS.default;
    const depthUnit = record.material === 'water' ? 'time_min' : 'depth_cm';
    const rows = Array.from({ length: file.rows ?? 10 }, (_, i) =>
      [i * 5, ...columns.map(([, lo, hi]) => (lo + (hi - lo) * random()).toFixed(2))].join(','),
    );
    return [[depthUnit, ...columns.map(([name]) => name)].join(','), ...rows].join('\n') + '\n';
  }
  return `Field note for ${sampleId}\nCollected ${record.collected_at} by ${record.collector} at ${record.latitude}, ${record.longitude} (${record.elevation_m} m).\n\n${record.description}\n`;
}

async function emit(line, out) {
  const { sample_id: sourceId, files = [], ...metadata } = JSON.parse(line);
  const written = [];
  for (const file of files) {
    const target = path.join(filesDir, sourceId, file.relative_path);
    const bytes = Buffer.from(fileContents(sourceId, metadata, file));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written.push({ name: file.name, relative_path: file.relative_path, size_mb: Math.round((bytes.length / 1024 ** 2) * 1e6) / 1e6 });
  }
  if (!out.write(JSON.stringify({ source_id: sourceId, metadata, files: written }) + '\n')) await once(out, 'drain');
}

await mkdir(outDir, { recursive: true });
const out = createWriteStream(path.join(outDir, 'records.jsonl'));
const input = createReadStream(dataset);
const lines = createInterface({ input, crlfDelay: Infinity });
let index = 0;
let emitted = 0;
let moreRemains = false;
try {
  for await (const line of lines) {
    if (!line.trim()) continue;
    if (index++ < offset) continue;
    // One line past the page tells whether the next batch has anything to read.
    if (emitted === take) {
      moreRemains = true;
      break;
    }
    await emit(line, out);
    emitted++;
  }
} catch (err) {
  fail(`reading ${dataset} line ${index}: ${err.message}`, 1);
}
lines.close();
input.destroy();
out.end();
await once(out, 'finish');

if (moreRemains) await writeFile(path.join(outDir, 'session.json'), JSON.stringify({ offset: offset + emitted }));
console.log(
  `geo ingester: batch ${batchIndex} wrote ${emitted} records from offset ${offset}${moreRemains ? `; next offset ${offset + emitted}` : '; dataset exhausted'}`,
);
