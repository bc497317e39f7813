#!/usr/bin/env bash
# Server mode vs. embedded on FOLDOC: the same ingest and the same 40 dev
# questions through `ragkv serve` (--server) and through a data directory
# (--data), one after the other in one run, so the ratios are comparable.
#
#   bench/rag/server_mode.sh [path/to/ragkv]     (default: build/release/ragkv)
#
# Needs dict-foldoc and python3. Writes under ${RAGKV_BENCH_DIR:-build/bench-rag}.
set -euo pipefail

RAGKV=${1:-build/release/ragkv}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${RAGKV_BENCH_DIR:-$ROOT/build/bench-rag}
FOLDOC_SRC=${FOLDOC_DATASET:-$ROOT/../shared/datasets/foldoc}
[[ -d $FOLDOC_SRC ]] || FOLDOC_SRC=/work/shared/datasets/foldoc
QUESTIONS=$FOLDOC_SRC/dev_questions.jsonl

[[ -x $RAGKV ]] || { echo "bench: build $RAGKV first" >&2; exit 1; }
[[ -f /usr/share/dictd/foldoc.dict.dz ]] || { echo "bench: needs dict-foldoc" >&2; exit 1; }
mkdir -p "$OUT"
echo "# $(date -u +%FT%TZ) on $(nproc) CPUs, $(uname -m)"
[[ -d $OUT/foldoc ]] || python3 "$FOLDOC_SRC/foldoc_to_files.py" "$OUT/foldoc" >/dev/null

"$RAGKV" serve --port 0 --bind 127.0.0.1 >"$OUT/serve.out" 2>"$OUT/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^port ' "$OUT/serve.out" && break; sleep 0.1; done
PORT=$(sed -n 's/^port //p' "$OUT/serve.out")

rm -rf "$OUT/data-server-mode"
echo "## embedded"
"$RAGKV" ingest "$OUT/foldoc" --data "$OUT/data-server-mode" 2>/dev/null | head -2
"$RAGKV" eval "$QUESTIONS" --data "$OUT/data-server-mode" | grep -E "^(abstention|all answerable|retrieval latency)"
echo "## ragkv serve on 127.0.0.1:$PORT"
"$RAGKV" ingest "$OUT/foldoc" --server "redis://127.0.0.1:$PORT" 2>/dev/null | head -2
"$RAGKV" eval "$QUESTIONS" --server "redis://127.0.0.1:$PORT" | grep -E "^(abstention|all answerable|retrieval latency)"
