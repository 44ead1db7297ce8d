#!/usr/bin/env bash
# Runs the geo-samples programs the way the pipeline does (env + in/out/files dirs) and checks the
# facts in expected.json. Needs only bash and node; run from anywhere:
#   bash tools/examples/geo/selftest.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { node -p "require('$HERE/expected.json').$1"; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
ids() { node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) if (l) console.log(JSON.parse(l)[process.argv[2]])' "$1" "$2" | sort; }

# ingest DIR LIMIT BATCH [SESSION_JSON] [CONFIG_JSON]: one ingester run in DIR/{in,out,files}.
ingest() {
  local config='{"page_size": 200}'
  if [ -n "${5:-}" ]; then config="$5"; fi
  mkdir -p "$1/in" "$1/out" "$1/files"
  echo "$config" >"$1/in/config.json"
  if [ -n "${4:-}" ]; then echo "$4" >"$1/in/session.json"; fi
  OSA_IN="$1/in" OSA_OUT="$1/out" OSA_FILES="$1/files" OSA_LIMIT="$2" OSA_BATCH_INDEX="$3" OSA_RUN_ID=selftest \
    node "$HERE/ingester.mjs" >"$1/stdout"
}
# hook NAME BATCH_DIR: turns the ingester output into hook input (as the pipeline does) and runs NAME.
hook() {
  local dir="$2/hook-$1"
  mkdir -p "$dir/in" "$dir/out"
  node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) if (l) {
    const r = JSON.parse(l); console.log(JSON.stringify({ id: r.source_id, metadata: r.metadata, size_hint_mb: 0.001 })) }' \
    "$2/out/records.jsonl" >"$dir/in/records.jsonl"
  OSA_IN="$dir/in" OSA_OUT="$dir/out" OSA_FILES="$2/files" node "$HERE/hooks/$1.mjs" >/dev/null
}

echo "1. the committed dataset is what the generator produces"
node "$HERE/generate-dataset.mjs" --check

echo "2. paging through the dataset with session.json"
session="" batches=0 total=0 with_files=0 rejected=0
while :; do
  dir="$WORK/batch-$batches"
  ingest "$dir" 100000 "$batches" "$session"
  n=$(lines "$dir/out/records.jsonl")
  [ "$n" = "$(expect page_size)" ] || fail "batch $batches has $n records, expected a full page of $(expect page_size)"
  total=$((total + n)); batches=$((batches + 1))
  with_files=$((with_files + $(grep -c '"files":\[{' "$dir/out/records.jsonl" || true)))
  [ -f "$dir/out/session.json" ] || break
  session="$(cat "$dir/out/session.json")"
  [ "$batches" -le 100 ] || fail "ingester never stopped writing session.json"
done
[ "$batches" = "$(expect batches)" ] || fail "batches: $batches, expected $(expect batches)"
[ "$total" = "$(expect records)" ] || fail "records: $total, expected $(expect records)"
[ "$with_files" = "$(expect records_with_files)" ] || fail "records with files: $with_files, expected $(expect records_with_files)"
cat "$WORK"/batch-*/out/records.jsonl >"$WORK/all.jsonl"
[ "$(ids "$WORK/all.jsonl" source_id | uniq | wc -l)" = "$total" ] || fail "source ids are not unique"
echo "   $batches batches, $total records, $with_files with files"

echo "3. every reported file exists with the reported size"
for dir in "$WORK"/batch-*; do
  node -e 'const fs = require("fs"), path = require("path"); const [records, files] = process.argv.slice(1);
    for (const l of fs.readFileSync(records, "utf8").split("\n")) if (l) { const r = JSON.parse(l);
      for (const f of r.files) { const size = fs.statSync(path.join(files, r.source_id, f.relative_path)).size;
        if (Math.abs(size / 1024 ** 2 - f.size_mb) > 1e-6) throw new Error(`${r.source_id}/${f.relative_path}: ${size} bytes, reported ${f.size_mb} MB`) } }' \
    "$dir/out/records.jsonl" "$dir/files"
done

echo "4. OSA_LIMIT truncates a page; session.json only while data remains"
ingest "$WORK/limit-a" 37 3 '{"offset": 100}'
[ "$(lines "$WORK/limit-a/out/records.jsonl")" = 37 ] || fail "OSA_LIMIT=37 did not give 37 records"
[ "$(cat "$WORK/limit-a/out/session.json")" = '{"offset":137}' ] || fail "session after OSA_LIMIT=37: $(cat "$WORK/limit-a/out/session.json")"
ingest "$WORK/limit-b" 37 9 '{"offset": 2990}'
[ "$(lines "$WORK/limit-b/out/records.jsonl")" = 10 ] || fail "the last 10 records were not served"
[ ! -f "$WORK/limit-b/out/session.json" ] || fail "session.json written at the end of the dataset"
ingest "$WORK/limit-c" 0 0
[ "$(lines "$WORK/limit-c/out/records.jsonl")" = 0 ] && [ -f "$WORK/limit-c/out/session.json" ] || fail "OSA_LIMIT=0 should serve nothing and keep the session"

echo "5. config.fail_batches makes chosen batches exit non-zero"
ingest "$WORK/fail-a" 200 2 "" '{"fail_batches": [2], "fail_exit_code": 75}' 2>/dev/null && fail "batch 2 should fail" || code=$?
[ "$code" = 75 ] || fail "fail_exit_code: got $code"
ingest "$WORK/fail-b" 200 1 "" '{"fail_batches": [2], "fail_exit_code": 75}' || fail "batch 1 should succeed"

echo "6. hooks: exactly one outcome per record; rejections match expected.json"
for dir in "$WORK"/batch-*; do
  hook check-schema "$dir"
  out="$dir/hook-check-schema/out"
  cat "$out/features.jsonl" "$out/rejections.jsonl" >"$out/outcomes.jsonl"
  [ "$(ids "$out/outcomes.jsonl" id)" = "$(ids "$dir/out/records.jsonl" source_id)" ] || fail "check_schema outcomes do not match the records of $dir"
  rejected=$((rejected + $(lines "$out/rejections.jsonl")))

  hook extract-features "$dir"
  out="$dir/hook-extract-features/out"
  [ "$(ids "$out/features.jsonl" id)" = "$(ids "$dir/out/records.jsonl" source_id)" ] || fail "extract_features did not give every record features in $dir"
  [ "$(lines "$out/errors.jsonl")" = 0 ] || fail "extract_features wrote errors in $dir"
done
[ "$rejected" = "$(expect rejected_by_check_schema)" ] || fail "rejected: $rejected, expected $(expect rejected_by_check_schema)"
[ $((total - rejected)) = "$(expect published)" ] || fail "published: $((total - rejected)), expected $(expect published)"
# Rejections must be exactly the documented defect rule: record i (0-based) is invalid iff i % 16 == 7.
cat "$WORK"/batch-*/hook-check-schema/out/rejections.jsonl >"$WORK/rejections.jsonl"
node -e 'const ids = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l).id);
  const bad = ids.filter((id) => (Number(id.slice(-6)) - 1) % 16 !== 7); if (bad.length) throw new Error(`unexpected rejections: ${bad}`)' "$WORK/rejections.jsonl"
echo "   $rejected rejected, $((total - rejected)) would be published"
echo "OK"
