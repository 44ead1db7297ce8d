#!/usr/bin/env node
// Generates data/samples.jsonl and expected.json for the geo-samples example convention.
//   node tools/examples/geo/generate-dataset.mjs          rewrite both files
//   node tools/examples/geo/generate-dataset.mjs --check  exit 1 if the committed files differ
// Output must be byte-identical on every run, so only integer PRNG arithmetic, + - * / and
// fixed-point rounding are used (no Math.sin/log, no Date.now, no locale formatting).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SEED = 20240917;
const RECORDS = 3000;
const PAGE_SIZE = 200;

// Record i (0-based) is deliberately invalid iff i % 16 === 7; its defect is
// DEFECTS[floor(i / 16) % DEFECTS.length]. README.md documents the same rule.
const DEFECTS = [
  'latitude_out_of_range',
  'longitude_out_of_range',
  'missing_material',
  'unparseable_date',
  'empty_title',
  'unknown_material',
  'latitude_not_a_number',
  'keywords_not_an_array',
];
const isDefective = (i) => i % 16 === 7;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function draws(rand) {
  return {
    rand,
    between: (lo, hi) => lo + (hi - lo) * rand(),
    int: (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(rand() * list.length)],
  };
}
// Defects draw from their own stream, so changing them never shifts the values of valid records.
const { rand, between, int, pick } = draws(mulberry32(SEED));
const defectDraws = draws(mulberry32(SEED + 1));
const fixed = (n, digits) => Math.round(n * 10 ** digits) / 10 ** digits;
const pad = (n, width) => String(n).padStart(width, '0');
const capitalize = (s) => s[0].toUpperCase() + s.slice(1);

const MATERIAL_TYPES = {
  rock: ['basalt', 'granite', 'andesite', 'rhyolite', 'gneiss', 'schist', 'limestone', 'sandstone', 'shale', 'peridotite', 'obsidian'],
  sediment: ['clay', 'silt', 'sand', 'turbidite', 'diatomaceous ooze', 'glacial till', 'loess'],
  soil: ['podzol', 'laterite', 'chernozem', 'andosol', 'gleysol', 'permafrost soil'],
  water: ['groundwater', 'hot spring water', 'lake water', 'seawater', 'meltwater', 'river water'],
  ice: ['ice core segment', 'firn', 'sea ice', 'glacier ice'],
  mineral: ['olivine', 'quartz', 'zircon', 'pyrite', 'calcite', 'halite'],
};
const METHODS = {
  rock: ['outcrop', 'drill core', 'dredge'],
  sediment: ['gravity core', 'grab', 'piston core'],
  soil: ['auger', 'soil pit'],
  water: ['bottle', 'pump'],
  ice: ['ice core', 'hand'],
  mineral: ['hand', 'outcrop'],
};

// Bounding boxes and elevation ranges are roughly right, so coordinates look plausible on a map.
const REGIONS = [
  {
    name: 'Reykjanes Peninsula, Iceland',
    lat: [63.8, 64.1],
    lon: [-22.8, -21.8],
    elev: [0, 350],
    materials: ['rock', 'water', 'mineral', 'soil'],
    tag: 'volcanology',
  },
  {
    name: 'Atacama Desert, Chile',
    lat: [-25.5, -22],
    lon: [-70, -68],
    elev: [500, 4500],
    materials: ['soil', 'mineral', 'rock', 'sediment'],
    tag: 'hyperarid',
  },
  {
    name: 'Yellowstone Plateau, USA',
    lat: [44.1, 45],
    lon: [-111.1, -109.8],
    elev: [1600, 3400],
    materials: ['water', 'rock', 'mineral', 'soil'],
    tag: 'hydrothermal',
  },
  {
    name: 'Ross Ice Shelf, Antarctica',
    lat: [-85, -78],
    lon: [160, 179.9],
    elev: [0, 80],
    materials: ['ice', 'water', 'sediment'],
    tag: 'cryosphere',
  },
  { name: 'Bengal Fan, Bay of Bengal', lat: [5, 20], lon: [82, 92], elev: [-4800, -1500], materials: ['sediment', 'water'], tag: 'marine' },
  {
    name: 'Swiss Alps, Switzerland',
    lat: [45.9, 46.8],
    lon: [7, 9.5],
    elev: [1200, 4200],
    materials: ['rock', 'ice', 'soil', 'water'],
    tag: 'orogeny',
  },
  {
    name: 'Great Rift Valley, Kenya',
    lat: [-1.5, 1],
    lon: [35.8, 36.6],
    elev: [600, 2500],
    materials: ['rock', 'sediment', 'water', 'soil'],
    tag: 'rifting',
  },
  { name: 'Pilbara Craton, Australia', lat: [-22.5, -20], lon: [117.5, 120], elev: [100, 1200], materials: ['rock', 'mineral'], tag: 'archean' },
  { name: 'Svalbard, Norway', lat: [77.5, 80], lon: [11, 27], elev: [0, 1200], materials: ['ice', 'sediment', 'rock', 'soil'], tag: 'arctic' },
  { name: 'Mississippi Delta, USA', lat: [28.9, 30.2], lon: [-91.5, -89], elev: [-5, 10], materials: ['sediment', 'water', 'soil'], tag: 'deltaic' },
  { name: 'Tibetan Plateau, China', lat: [29, 35], lon: [80, 95], elev: [4000, 5500], materials: ['soil', 'rock', 'ice', 'water'], tag: 'plateau' },
  {
    name: 'Mid-Atlantic Ridge',
    lat: [-5, 40],
    lon: [-45, -13],
    elev: [-4000, -2000],
    materials: ['rock', 'sediment', 'water'],
    tag: 'mid-ocean ridge',
  },
  { name: 'Amazon Basin, Brazil', lat: [-10, 0], lon: [-70, -50], elev: [20, 200], materials: ['soil', 'water', 'sediment'], tag: 'tropical' },
  {
    name: 'Dead Sea Rift, Jordan',
    lat: [31, 31.8],
    lon: [35.4, 35.6],
    elev: [-430, -380],
    materials: ['water', 'mineral', 'sediment'],
    tag: 'evaporite',
  },
  { name: 'Scottish Highlands, UK', lat: [56.5, 58.5], lon: [-6, -3.5], elev: [0, 1300], materials: ['rock', 'soil', 'water'], tag: 'caledonian' },
  {
    name: 'Kamchatka Peninsula, Russia',
    lat: [51, 60],
    lon: [156, 163],
    elev: [0, 3000],
    materials: ['rock', 'ice', 'water', 'mineral'],
    tag: 'subduction',
  },
];
const TOPICS = [
  'geochemistry',
  'petrology',
  'paleoclimate',
  'hydrology',
  'stable isotopes',
  'trace elements',
  'XRF',
  'grain size',
  'radiocarbon',
  'U-Pb dating',
  'mineralogy',
  'geomicrobiology',
];
const COLLECTORS = [
  'A. Okafor',
  'B. Lindqvist',
  'C. Ramírez',
  'D. Nakamura',
  'E. Haddad',
  'F. Moreau',
  'G. Kowalski',
  'H. Chen',
  'I. Sørensen',
  'J. Mwangi',
  'K. O’Brien',
  'L. Petrov',
  'M. Rossi',
  'N. Gupta',
  'O. Adeyemi',
  'P. Jensen',
  'Q. Li',
  'R. Fernández',
  'S. Tanaka',
  'T. Müller',
];
const SEASONS = ['spring', 'summer', 'autumn', 'winter'];
const NOTES = [
  'Sample bagged and sealed on site.',
  'Weathered surface removed before sampling.',
  'Duplicate kept in the regional repository.',
  'Stored at 4 °C until analysis.',
  'Location fixed by differential GPS.',
  'Photographed in situ with scale bar.',
];

const daysIn = (year, month) =>
  [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];

function makeRecord(i) {
  const region = pick(REGIONS);
  const material = pick(region.materials);
  const type = pick(MATERIAL_TYPES[material]);
  const method = pick(METHODS[material]);
  const year = int(1965, 2024);
  const month = int(1, 12);
  const elevation = Math.round(between(...region.elev));
  const keywords = [...new Set([material, type, region.tag, ...Array.from({ length: int(0, 3) }, () => pick(TOPICS))])];
  const where = elevation < 0 ? `${-elevation} m below sea level` : `${elevation} m elevation`;
  const record = {
    sample_id: `IGSN-GEO-${pad(i + 1, 6)}`,
    title: `${capitalize(type)} (${method} sample), ${region.name}`,
    collected_at: `${year}-${pad(month, 2)}-${pad(int(1, daysIn(year, month)), 2)}`,
    latitude: fixed(between(...region.lat), 5),
    longitude: fixed(between(...region.lon), 5),
    elevation_m: elevation,
    region: region.name,
    material,
    material_type: type,
    collector: pick(COLLECTORS),
    keywords,
    description: `${capitalize(type)} collected by ${method} sampling at ${where} during the ${pick(SEASONS)} field campaign. ${pick(NOTES)}`,
  };
  // Only the shape of each file is stored; the ingester derives the contents from the record.
  if (rand() < 0.1) {
    record.files = [{ name: 'measurements.csv', relative_path: 'measurements.csv', rows: int(5, 60) }];
    if (rand() < 0.5) record.files.push({ name: 'field-note.txt', relative_path: 'notes/field-note.txt' });
  }
  return record;
}

function breakRecord(record, defect) {
  const { between, pick } = defectDraws;
  switch (defect) {
    case 'latitude_out_of_range':
      record.latitude = fixed((record.latitude < 0 ? -1 : 1) * between(90.5, 135), 4);
      break;
    case 'longitude_out_of_range':
      record.longitude = fixed((record.longitude < 0 ? -1 : 1) * between(180.5, 260), 4);
      break;
    case 'missing_material':
      delete record.material;
      break;
    case 'unparseable_date':
      record.collected_at = pick(['2014-13-02', '31/04/2011', 'spring 1998', '2007-02-30', 'n.d.', '19890715']);
      break;
    case 'empty_title':
      record.title = pick(['', '   ']);
      break;
    case 'unknown_material':
      record.material = pick(['Rock', 'magma', 'plastic', 'unknown']);
      break;
    case 'latitude_not_a_number': {
      const deg = Math.floor(Math.abs(record.latitude));
      record.latitude = `${deg}°${pad(Math.floor((Math.abs(record.latitude) - deg) * 60), 2)}'${record.latitude < 0 ? 'S' : 'N'}`;
      break;
    }
    case 'keywords_not_an_array':
      record.keywords = record.keywords.join('; ');
      break;
  }
  return record;
}

const lines = [];
let rejected = 0;
let withFiles = 0;
for (let i = 0; i < RECORDS; i++) {
  const record = makeRecord(i);
  if (isDefective(i)) {
    breakRecord(record, DEFECTS[Math.floor(i / 16) % DEFECTS.length]);
    rejected++;
  }
  if (record.files) withFiles++;
  lines.push(JSON.stringify(record));
}

const expected = {
  records: RECORDS,
  page_size: PAGE_SIZE,
  batches: Math.ceil(RECORDS / PAGE_SIZE),
  rejected_by_check_schema: rejected,
  published: RECORDS - rejected,
  records_with_files: withFiles,
};
const outputs = [
  [new URL('data/samples.jsonl', import.meta.url), lines.join('\n') + '\n'],
  [new URL('expected.json', import.meta.url), JSON.stringify(expected, null, 2) + '\n'],
];

if (process.argv.includes('--check')) {
  const stale = outputs.filter(([url, text]) => {
    try {
      return readFileSync(url, 'utf8') !== text;
    } catch {
      return true;
    }
  });
  for (const [url] of stale) console.error(`${fileURLToPath(url)} differs from what the generator produces`);
  process.exit(stale.length ? 1 : 0);
}
for (const [url, text] of outputs) writeFileSync(url, text);
console.log(`wrote ${RECORDS} records (${rejected} deliberately invalid, ${withFiles} with files) and expected.json`);
