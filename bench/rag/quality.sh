#!/usr/bin/env bash
# FOLDOC retrieval quality on the three question sets used to choose and check
# retrieval settings (docs/rag.md): dev half A (odd lines of
# dev_questions.jsonl: where settings are tuned), dev half B (even lines: held
# out), tests/rag/data/foldoc_heldout.jsonl (a second held-out set, written
# before any system ran on it) and foldoc_heldout2.jsonl (a third, written
# later to check abstention rules) and foldoc_heldout3.jsonl (a fourth, written
# in session 3 before the named-subject rule was run on it) and
# foldoc_heldout4.jsonl (a fifth, before the rule's verb test ran on it) and
# foldoc_heldout5.jsonl (a sixth, before the shipped rule ran on it; see
# tests/rag/data/README.md). Prints nDCG@10, MRR@10, R@10 and the
# abstention counts for each, with the FOLDOC scorer's own metrics.
#
#   bench/rag/quality.sh [path/to/ragkv] [extra `ragkv eval` options...]
#
# Extra options go to both evals, e.g. `--vector-weight 0` or `--rrf-k 30`
# (the retrieval tuning group of `ragkv eval --help`). Ingests FOLDOC once into
# ${RAGKV_BENCH_DIR:-build/bench-rag}/data-quality (reused when present).
# Needs python3 and dict-foldoc.
set -euo pipefail

RAGKV=${1:-build/release/ragkv}
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${RAGKV_BENCH_DIR:-$ROOT/build/bench-rag}
FOLDOC_SRC=${FOLDOC_DATASET:-$ROOT/../shared/datasets/foldoc}
[[ -d $FOLDOC_SRC ]] || FOLDOC_SRC=/work/shared/datasets/foldoc
DEV=$FOLDOC_SRC/dev_questions.jsonl
HELDOUT=$ROOT/tests/rag/data/foldoc_heldout.jsonl
HELDOUT2=$ROOT/tests/rag/data/foldoc_heldout2.jsonl
HELDOUT3=$ROOT/tests/rag/data/foldoc_heldout3.jsonl
HELDOUT4=$ROOT/tests/rag/data/foldoc_heldout4.jsonl
HELDOUT5=$ROOT/tests/rag/data/foldoc_heldout5.jsonl

[[ -x $RAGKV ]] || { echo "quality: build $RAGKV first" >&2; exit 1; }
[[ -f /usr/share/dictd/foldoc.dict.dz ]] || { echo "quality: install dict-foldoc" >&2; exit 1; }
mkdir -p "$OUT"
if [[ ! -d $OUT/data-quality ]]; then
  rm -rf "$OUT/foldoc-quality"
  python3 "$FOLDOC_SRC/foldoc_to_files.py" "$OUT/foldoc-quality" >/dev/null
  "$RAGKV" ingest "$OUT/foldoc-quality" --data "$OUT/data-quality" | tail -1
fi
"$RAGKV" eval "$DEV" --data "$OUT/data-quality" --run-out "$OUT/quality-dev.jsonl" "$@" |
  grep -i 'latency' || true
"$RAGKV" eval "$HELDOUT" --data "$OUT/data-quality" --run-out "$OUT/quality-heldout.jsonl" "$@" \
  >/dev/null
"$RAGKV" eval "$HELDOUT2" --data "$OUT/data-quality" --run-out "$OUT/quality-heldout2.jsonl" "$@" \
  >/dev/null
"$RAGKV" eval "$HELDOUT3" --data "$OUT/data-quality" --run-out "$OUT/quality-heldout3.jsonl" "$@" \
  >/dev/null
"$RAGKV" eval "$HELDOUT4" --data "$OUT/data-quality" --run-out "$OUT/quality-heldout4.jsonl" "$@" \
  >/dev/null
"$RAGKV" eval "$HELDOUT5" --data "$OUT/data-quality" --run-out "$OUT/quality-heldout5.jsonl" "$@" \
  >/dev/null
python3 "$HERE/quality_report.py" "$FOLDOC_SRC" "$DEV" "$OUT/quality-dev.jsonl" \
  "$HELDOUT" "$OUT/quality-heldout.jsonl" "$HELDOUT2" "$OUT/quality-heldout2.jsonl" \
  "$HELDOUT3" "$OUT/quality-heldout3.jsonl" "$HELDOUT4" "$OUT/quality-heldout4.jsonl" \
  "$HELDOUT5" "$OUT/quality-heldout5.jsonl"
