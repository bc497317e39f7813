#!/usr/bin/env bash
# Side-by-side ANN benchmark: ragkv (float32 and uint8/int8 storage) against
# hnswlib and, optionally, FAISS IndexHNSWFlat, on the same files with the same
# M / efConstruction / queries, interleaved round by round so machine noise
# hits every engine alike. Prints bench/ann/compare.py's markdown tables.
#
# Usage: bench/ann/run.sh [dataset]        (default fashion-mnist; or sift5k-ngt)
# Env:   ROUNDS=2 REPS=3 TYPES="float32 uint8" FAISS=0|1 EFS=10,20,40,80,160,320
#        FILTERS="0.01 0.1" (filtered ragkv runs, float32)  OUT=/tmp/ragkv-ann
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATASET="${1:-fashion-mnist}"
ROUNDS="${ROUNDS:-2}"
REPS="${REPS:-3}"
TYPES="${TYPES:-float32 uint8}"
FAISS="${FAISS:-0}"
EFS="${EFS:-10,20,40,80,160,320}"
FILTERS="${FILTERS:-}"
OUT="${OUT:-/tmp/ragkv-ann}"
DATA="$OUT/data"
BUILD="$ROOT/build/bench"

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DRAGKV_BUILD_BENCH=ON \
      -DRAGKV_BUILD_TESTS=OFF > /dev/null
cmake --build "$BUILD" -j2 --target ragkv ann_reference
[ -f "$DATA/$DATASET/base.fvecs" ] ||
  /usr/bin/python3 "$ROOT/../shared/bench/ann_anchor/prepare_data.py" "$ROOT/../shared/datasets" "$DATA"

D="$DATA/$DATASET"
FILES=(--base "$D/base.fvecs" --queries "$D/query.fvecs" --gt "$D/gt.ivecs")
COMMON=(--m 16 --ef-construction 200 --ef "$EFS" --k 10 --reps "$REPS")
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$OUT/results-$DATASET-$STAMP.jsonl"
mkdir -p "$OUT"
echo "# $(date -u) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round: hnswlib" >&2
  "$BUILD/bench/ann/ann_reference" hnswlib "${FILES[@]}" "${COMMON[@]}" >> "$RESULTS"
  for type in $TYPES; do
    echo "round $round: ragkv $type" >&2
    "$BUILD/ragkv" bench ann "${FILES[@]}" "${COMMON[@]}" --type "$type" --json >> "$RESULTS"
  done
  if [ "$FAISS" = 1 ] && [ "$round" = 1 ]; then
    echo "round $round: faiss" >&2
    OMP_NUM_THREADS=1 "$BUILD/bench/ann/ann_reference" faiss "${FILES[@]}" "${COMMON[@]}" >> "$RESULTS"
  fi
done
for f in $FILTERS; do
  echo "filtered ragkv float32, fraction $f" >&2
  "$BUILD/ragkv" bench ann "${FILES[@]}" "${COMMON[@]}" --filter-fraction "$f" --max-queries 2000 \
    --json >> "$RESULTS"
done
echo "results: $RESULTS" >&2
/usr/bin/python3 "$ROOT/bench/ann/compare.py" "$RESULTS"
