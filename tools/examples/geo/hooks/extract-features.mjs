#!/usr/bin/env node
// Hook extract_features: derives search facets from each record. It runs on records check_schema
// may reject, so every feature is computed only from fields that make sense and the rest are left out.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { hookEnv, jsonlWriter, readRecords } from './io.mjs';

const HOOK = 'extract_features';
const { inDir, outDir, filesDir } = hookEnv(HOOK);

const BANDS = [
  [-200, 'deep_sea'],
  [0, 'below_sea_level'],
  [500, 'lowland'],
  [1500, 'upland'],
  [3000, 'highland'],
  [Infinity, 'alpine'],
];
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);

function metadataFeatures(m) {
  const f = {};
  if (isNumber(m.latitude) && Math.abs(m.latitude) <= 90) f.hemisphere = m.latitude >= 0 ? 'N' : 'S';
  if (isNumber(m.elevation_m)) f.elevation_band = BANDS.find(([below]) => m.elevation_m < below)[1];
  if (Array.isArray(m.keywords)) f.keyword_count = m.keywords.length;
  const year = /^(\d{4})-\d{2}-\d{2}$/.exec(typeof m.collected_at === 'string' ? m.collected_at : '')?.[1];
  if (year) f.decade = `${Math.floor(+year / 10) * 10}s`;
  if (typeof m.material === 'string') f.material = m.material;
  return f;
}

// Files are optional; a record without a files directory simply gets no file features.
async function fileFeatures(id) {
  if (!filesDir || id === '.' || id === '..' || /[/\\\0]/.test(id)) return {};
  const dir = path.join(filesDir, id);
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw err;
  }
  const f = { file_count: entries.filter((e) => e.isFile()).length };
  const csv = await readFile(path.join(dir, 'measurements.csv'), 'utf8').catch(() => undefined);
  if (csv !== undefined) f.measurement_rows = csv.split('\n').filter((line) => line.trim()).length - 1;
  return f;
}

const features = jsonlWriter(path.join(outDir, 'features.jsonl'));
const errors = jsonlWriter(path.join(outDir, 'errors.jsonl'));
for await (const { id, metadata } of readRecords(inDir, HOOK)) {
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) {
    await errors.write({ id, error: 'metadata is not an object, so no feature can be derived', retryable: false });
    continue;
  }
  try {
    await features.write({ id, features: [{ ...metadataFeatures(metadata), ...(await fileFeatures(id)) }] });
  } catch (err) {
    // Only reading the record's files can throw here: an I/O fault, worth another attempt.
    await errors.write({ id, error: `reading files of ${id}: ${err.message}`, retryable: true });
  }
}
await features.close();
await errors.close();
console.log(`${HOOK}: ${features.count} records with features, ${errors.count} errors`);
