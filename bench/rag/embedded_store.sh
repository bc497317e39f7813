#!/usr/bin/env bash
# Embedded store, two builds side by side in one run (issue 5: the embedded
# store moved onto the engine's AOF): FOLDOC ingest, eval quality + latency,
# open+query time of `search`, PostgreSQL manual ingest, `ask` wall time.
# Runs alternate between the builds so both see the same machine load.
#
#   bench/rag/embedded_store.sh OLD_RAGKV NEW_RAGKV [runs]   (default runs: 3)
#
# Writes under ${RAGKV_BENCH_DIR:-build/bench-embedded}.
set -euo pipefail

OLD=$1
NEW=$2
RUNS=${3:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${RAGKV_BENCH_DIR:-$ROOT/build/bench-embedded}
FOLDOC_SRC=${FOLDOC_DATASET:-/work/shared/datasets/foldoc}
QUESTIONS=$FOLDOC_SRC/dev_questions.jsonl
MANUAL=/usr/share/doc/postgresql-doc-15/html
mkdir -p "$OUT"
[[ -d $OUT/foldoc ]] || python3 "$FOLDOC_SRC/foldoc_to_files.py" "$OUT/foldoc" >/dev/null
echo "# $(date -u +%FT%TZ) on $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"

secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }

for i in $(seq "$RUNS"); do
  for side in old new; do
    bin=$OLD; [[ $side == new ]] && bin=$NEW
    rm -rf "$OUT/foldoc-$side" "$OUT/pg-$side"
    f=$(secs "$bin" ingest "$OUT/foldoc" --data "$OUT/foldoc-$side")
    p=$(secs "$bin" ingest "$MANUAL" --data "$OUT/pg-$side" --collection postgres)
    s=$(secs "$bin" search "garbage collection" --k 3 --data "$OUT/foldoc-$side")
    a=$(secs "$bin" ask "What is the purpose of data replication?" --data "$OUT/pg-$side" \
        --collection postgres)
    echo "run $i $side: foldoc ingest ${f}s, postgres ingest ${p}s, foldoc search ${s}s," \
         "postgres ask ${a}s, data $(du -sh "$OUT/foldoc-$side" | cut -f1)"
  done
done
for side in old new; do
  bin=$OLD; [[ $side == new ]] && bin=$NEW
  "$bin" eval "$QUESTIONS" --data "$OUT/foldoc-$side" --run-out "$OUT/run-$side.jsonl" | tail -1 |
    sed "s/^/$side: /"
  python3 "$FOLDOC_SRC/score.py" "$OUT/run-$side.jsonl" | sed -n '2p' | sed "s/^/$side: /"
done
python3 - "$OUT/run-old.jsonl" "$OUT/run-new.jsonl" <<'PY'
import json, sys
runs = [[json.loads(l) for l in open(p)] for p in sys.argv[1:]]
key = lambda r: (r["id"], r["ranked"], r["abstain"])
same = [key(a) == key(b) for a, b in zip(*runs)]
print(f"rankings and abstentions identical for {sum(same)}/{len(same)} questions")
PY
