#!/usr/bin/env bash
# FT.SEARCH KNN through RESP vs the in-process index, on Fashion-MNIST.
#
# Usage: bench/search/run.sh [n_docs] [seconds_per_point]
#   env RAGKV=path/to/ragkv (default build/release/ragkv),
#       SEARCH_LOAD=path/to/search_load (default build/release/bench/search/search_load),
#       DATA=/tmp/ann-data/fashion-mnist (written by shared/bench/ann_anchor/prepare_data.py)
# Starts `ragkv serve` on a free loopback port, runs search_load against it
# and stops it. Build first:
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DRAGKV_BUILD_BENCH=ON
#   cmake --build build/release -j2 --target ragkv search_load
set -euo pipefail
N=${1:-20000}
SECONDS_PER_POINT=${2:-5}
RAGKV=${RAGKV:-build/release/ragkv}
SEARCH_LOAD=${SEARCH_LOAD:-build/release/bench/search/search_load}
DATA=${DATA:-/tmp/ann-data/fashion-mnist}
if [[ ! -f $DATA/base.fvecs ]]; then
  /usr/bin/python3 /work/shared/bench/ann_anchor/prepare_data.py /work/shared/datasets /tmp/ann-data
fi
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$RAGKV" serve --port "$PORT" --bind 127.0.0.1 --save '' > /tmp/ragkv-search-bench.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
sleep 0.5
echo "ragkv $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u +%FT%TZ)"
"$SEARCH_LOAD" --port "$PORT" --base "$DATA/base.fvecs" --queries "$DATA/query.fvecs" \
  --gt "$DATA/gt.ivecs" --n "$N" --k 10 --ef 64 --seconds "$SECONDS_PER_POINT" \
  --clients 1,8,32 --max-queries 1000 --rounds 5 --block 50
