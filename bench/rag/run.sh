#!/usr/bin/env bash
# RAG benchmark: ingest throughput and retrieval latency of `ragkv` on FOLDOC
# (12,014 entries) and the PostgreSQL 15 manual (HTML), side by side with
# SQLite FTS5 as the lexical reference on the same files and questions, plus
# FOLDOC retrieval quality (score.py) for both.
#
#   bench/rag/run.sh [path/to/ragkv] [runs]     (defaults: build/release/ragkv, 3)
#
# Each ingest runs `runs` times into a fresh data directory; the report keeps
# every run so the spread is visible. Needs python3 (sqlite3 with FTS5), and
# dict-foldoc for the FOLDOC part (skipped otherwise). Writes under
# ${RAGKV_BENCH_DIR:-build/bench-rag}.
set -euo pipefail

RAGKV=${1:-build/release/ragkv}
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${RAGKV_BENCH_DIR:-$ROOT/build/bench-rag}
FOLDOC_SRC=${FOLDOC_DATASET:-$ROOT/../shared/datasets/foldoc}
[[ -d $FOLDOC_SRC ]] || FOLDOC_SRC=/work/shared/datasets/foldoc
MANUAL=/usr/share/doc/postgresql-doc-15/html
QUESTIONS=$FOLDOC_SRC/dev_questions.jsonl

[[ -x $RAGKV ]] || { echo "bench: build $RAGKV first (make build)" >&2; exit 1; }
mkdir -p "$OUT"
echo "# $(date -u +%FT%TZ) on $(nproc) CPUs, $(uname -m); ragkv $("$RAGKV" version)"

ingest_runs() {  # name dir
  for i in $(seq "$RUNS"); do
    rm -rf "$OUT/data-$1"
    "$RAGKV" ingest "$2" --data "$OUT/data-$1" 2>/dev/null | head -1 | sed "s|^|ragkv[$1 run $i]: |"
  done
}

if [[ -f /usr/share/dictd/foldoc.dict.dz && -f $FOLDOC_SRC/foldoc_to_files.py ]]; then
  rm -rf "$OUT/foldoc" && python3 "$FOLDOC_SRC/foldoc_to_files.py" "$OUT/foldoc" >/dev/null
  echo "## FOLDOC"
  ingest_runs foldoc "$OUT/foldoc"
  for i in $(seq "$RUNS"); do
    python3 "$HERE/fts5_reference.py" "$OUT/foldoc" | head -1
  done
  echo "### quality and latency on $QUESTIONS"
  "$RAGKV" eval "$QUESTIONS" --data "$OUT/data-foldoc" --run-out "$OUT/ragkv-run.jsonl" | tail -1
  python3 "$FOLDOC_SRC/score.py" "$OUT/ragkv-run.jsonl" | sed -n '1,4p;6,7p' | sed 's/^/ragkv  /'
  for tok in unicode61 "porter unicode61"; do
    python3 "$HERE/fts5_reference.py" "$OUT/foldoc" --tokenizer "$tok" --questions "$QUESTIONS" \
      --run-out "$OUT/fts5-run.jsonl" | tail -1
    python3 "$FOLDOC_SRC/score.py" "$OUT/fts5-run.jsonl" | sed -n '2p' | sed "s/^/fts5[$tok]  /"
  done
else
  echo "## FOLDOC skipped: install dict-foldoc"
fi

if [[ -d $MANUAL ]]; then
  echo "## PostgreSQL 15 manual ($MANUAL)"
  ingest_runs postgres "$MANUAL"
  for i in $(seq "$RUNS"); do
    python3 "$HERE/fts5_reference.py" "$MANUAL" --html | head -1
  done
  if [[ -f $QUESTIONS ]]; then
    echo "### latency of the 40 FOLDOC questions against the manual"
    "$RAGKV" eval "$QUESTIONS" --data "$OUT/data-postgres" | tail -1
    python3 "$HERE/fts5_reference.py" "$MANUAL" --html --questions "$QUESTIONS" | tail -1
  fi
else
  echo "## PostgreSQL manual skipped: install postgresql-doc-15"
fi
