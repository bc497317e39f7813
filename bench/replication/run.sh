#!/usr/bin/env bash
# Replication benchmark, ragkv side by side with Debian's redis-server 7.0
# (same topology, same load, run one after the other so they never compete):
#
#  1. write throughput with a leader + 2 followers attached (redis-benchmark
#     SET, -c 50 -P 16), the largest follower lag seen while it runs (bytes of
#     stream, sampled every 100 ms) and the catch-up time after it ends;
#  2. full-sync time of a new follower for K string keys;
#  3. full-sync time for V hashes holding a 128-float32 vector blob (512 B);
#  4. read scaling of GET: one redis-benchmark against the leader, then three
#     at once against leader + 2 followers (sum of ops/s). On a machine with
#     fewer cores than processes this measures CPU sharing, not scaling.
#  5. read scaling of FT.SEARCH (ragkv only: Debian's redis-server has no
#     search module): an HNSW index created on the leader (so FT.CREATE goes
#     through the stream) over F hashes of 128 random float32s; KNN 10 with
#     redis-benchmark -c 50 against the leader alone, then against leader + 2
#     followers at once (sum of queries/s). Same caveat as 4.
#
# Usage: bench/replication/run.sh [-k keys] [-v vectors] [-n writes] [-f ft-docs] [-q ft-queries]
#                                 [-s "ragkv redis"]
#   env RAGKV=path/to/ragkv (default build/release/ragkv)
set -euo pipefail

K=1000000
V=200000
N=1000000
F=20000
Q=20000
SERVERS="ragkv redis"
while getopts "k:v:n:f:q:s:" opt; do
  case $opt in
    k) K=$OPTARG ;;
    v) V=$OPTARG ;;
    n) N=$OPTARG ;;
    f) F=$OPTARG ;;
    q) Q=$OPTARG ;;
    s) SERVERS=$OPTARG ;;
    *) echo "usage: $0 [-k keys] [-v vectors] [-n writes] [-s servers]" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RAGKV=${RAGKV:-$ROOT/build/release/ragkv}
PY=${PYTHON:-/usr/bin/python3}
for tool in redis-server redis-benchmark redis-cli "$PY"; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[ -x "$RAGKV" ] || { echo "build ragkv first: $RAGKV not found" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ragkv-replbench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
info() { redis-cli -p "$1" info replication | tr -d '\r' | sed -n "s/^$2://p"; }

# start <server> <port> <dir> [replicaof-port]: starts it in the background.
start() {
  local kind=$1 port=$2 dir=$3 of=${4:-}
  mkdir -p "$dir"
  if [ "$kind" = ragkv ]; then
    local args=(serve --port "$port" --bind 127.0.0.1 --dir "$dir" --repl-backlog-size 64mb)
    [ -n "$of" ] && args+=(--replicaof "127.0.0.1 $of")
    "$RAGKV" "${args[@]}" >"$dir/out" 2>"$dir/log" &
  else
    local args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no
                --repl-backlog-size 64mb --repl-diskless-sync-delay 0 --logfile "$dir/log")
    [ -n "$of" ] && args+=(--replicaof 127.0.0.1 "$of")
    redis-server "${args[@]}" &
  fi
  PIDS+=($!)
  for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
}

wait_synced() {  # leader follower... : until every follower's offset equals the leader's
  local leader=$1; shift
  for _ in $(seq 6000); do
    local lo ok=1
    lo=$(info "$leader" master_repl_offset)
    for f in "$@"; do
      [ "$(info "$f" master_link_status)" = up ] && [ "$(info "$f" slave_repl_offset)" = "$lo" ] || ok=0
    done
    [ $ok = 1 ] && return 0
    sleep 0.01
  done
  echo "followers never caught up" >&2
  return 1
}

gen_strings() {  # RESP for SET key:i <16 bytes>
  "$PY" - "$1" <<'PY'
import sys
n = int(sys.argv[1]); out = sys.stdout.buffer
for i in range(n):
    k = b"key:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%016d\r\n" % (len(k), k, i))
PY
}
gen_vectors() {  # RESP for HSET vec:i v <512 random bytes> t title
  "$PY" - "$1" <<'PY'
import os, sys
n = int(sys.argv[1]); out = sys.stdout.buffer
for i in range(n):
    k = b"vec:%d" % i
    out.write(b"*6\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$512\r\n%s\r\n$1\r\nt\r\n$5\r\ntitle\r\n"
              % (len(k), k, os.urandom(512)))
PY
}

gen_float_docs() {  # RESP for HSET doc:i emb <128 float32 in [-1,1)>
  "$PY" - "$1" <<'PY'
import random, struct, sys
n = int(sys.argv[1]); out = sys.stdout.buffer; rng = random.Random(1)
for i in range(n):
    k = b"doc:%d" % i
    v = struct.pack("<128f", *[rng.uniform(-1, 1) for _ in range(128)])
    out.write(b"*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$3\r\nemb\r\n$512\r\n%s\r\n" % (len(k), k, v))
PY
}

echo "# generating $K keys, $V vectors and $F float documents"
gen_strings "$K" >"$WORK/strings.resp"
gen_vectors "$V" >"$WORK/vectors.resp"
gen_float_docs "$F" >"$WORK/docs.resp"
# The query vector: 128 x 0.3f (bytes 9a 99 99 3e, no NUL, so it fits in argv).
QVEC=$(for _ in $(seq 128); do printf '\x9a\x99\x99\x3e'; done)

RESULTS="$WORK/results"
: >"$RESULTS"
for S in $SERVERS; do
  echo "# $S"
  L=$(free_port); F1=$(free_port); F2=$(free_port); F3=$(free_port)
  start "$S" "$L" "$WORK/$S-l"
  start "$S" "$F1" "$WORK/$S-f1" "$L"
  start "$S" "$F2" "$WORK/$S-f2" "$L"
  wait_synced "$L" "$F1" "$F2"

  # 1. write throughput and lag: while the load runs, a probe writes a
  # unique value to the leader every 50 ms and times how long until both
  # followers return it (replication latency under load).
  redis-benchmark -p "$L" -t set -n "$N" -r 100000 -c 50 -P 16 -q --csv >"$WORK/$S-set.csv" &
  BENCH=$!
  "$PY" "$ROOT/bench/replication/lag_probe.py" "$BENCH" "$L" "$F1" "$F2" >"$WORK/$S-lag.txt"
  wait "$BENCH"
  t0=$(now_ms); wait_synced "$L" "$F1" "$F2"; catchup=$(( $(now_ms) - t0 ))
  setops=$(tail -1 "$WORK/$S-set.csv" | cut -d, -f2 | tr -d '"')
  echo "$S set_ops_per_s_with_2_followers $setops" >>"$RESULTS"
  read -r p50 p99 pmax samples <"$WORK/$S-lag.txt"
  echo "$S lag_under_load_ms_p50 $p50" >>"$RESULTS"
  echo "$S lag_under_load_ms_p99 $p99" >>"$RESULTS"
  echo "$S lag_under_load_ms_max $pmax" >>"$RESULTS"
  echo "$S lag_probe_samples $samples" >>"$RESULTS"
  echo "$S catch_up_ms_after_load $catchup" >>"$RESULTS"

  # 2. full sync of K string keys.
  redis-cli -p "$L" flushall >/dev/null
  redis-cli -p "$L" --pipe <"$WORK/strings.resp" >/dev/null
  wait_synced "$L" "$F1" "$F2"
  t0=$(now_ms)
  start "$S" "$F3" "$WORK/$S-f3" "$L"
  wait_synced "$L" "$F3"
  echo "$S full_sync_ms_${K}_keys $(( $(now_ms) - t0 ))" >>"$RESULTS"
  [ "$(redis-cli -p "$F3" dbsize)" = "$(redis-cli -p "$L" dbsize)" ] || echo "$S: dbsize mismatch" >&2

  # 4. read scaling of GET over the K keys: total requests / wall time.
  one=$(redis-benchmark -p "$L" -t get -n "$N" -r "$K" -c 50 -P 16 -q --csv | tail -1 | cut -d, -f2 | tr -d '"')
  t0=$(now_ms)
  GETS=()
  for p in "$L" "$F1" "$F2"; do
    redis-benchmark -p "$p" -t get -n "$N" -r "$K" -c 50 -P 16 -q --csv >/dev/null &
    GETS+=($!)
  done
  wait "${GETS[@]}"
  sum=$(( 3 * N * 1000 / ( $(now_ms) - t0 ) ))
  echo "$S get_ops_per_s_leader_only $one" >>"$RESULTS"
  echo "$S get_ops_per_s_leader_plus_2_followers $sum" >>"$RESULTS"

  # 3. full sync of V vector hashes (the follower F3 re-syncs from scratch).
  redis-cli -p "$F3" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.3
  redis-cli -p "$L" flushall >/dev/null
  redis-cli -p "$L" --pipe <"$WORK/vectors.resp" >/dev/null
  wait_synced "$L" "$F1" "$F2"
  rm -rf "$WORK/$S-f3"
  t0=$(now_ms)
  start "$S" "$F3" "$WORK/$S-f3" "$L"
  wait_synced "$L" "$F3"
  echo "$S full_sync_ms_${V}_vectors $(( $(now_ms) - t0 ))" >>"$RESULTS"

  # 5. read scaling of FT.SEARCH KNN (ragkv only).
  if [ "$S" = ragkv ]; then
    redis-cli -p "$L" flushall >/dev/null
    redis-cli -p "$L" FT.CREATE idx ON HASH PREFIX 1 doc: SCHEMA emb VECTOR HNSW 6 TYPE FLOAT32 \
      DIM 128 DISTANCE_METRIC L2 >/dev/null
    redis-cli -p "$L" --pipe <"$WORK/docs.resp" >/dev/null
    wait_synced "$L" "$F1" "$F2"
    knn=(FT.SEARCH idx '*=>[KNN 10 @emb $B]' PARAMS 2 B "$QVEC" NOCONTENT DIALECT 2)
    for p in "$F1" "$F2"; do
      [ "$(redis-cli -p "$p" FT.SEARCH idx '*=>[KNN 10 @emb $B]' PARAMS 2 B "$QVEC" NOCONTENT DIALECT 2 | head -1)" = 10 ] ||
        echo "$S: follower $p does not answer the KNN query" >&2
    done
    one=$(redis-benchmark -p "$L" -n "$Q" -c 50 -q --csv "${knn[@]}" | tail -1 | cut -d, -f2 | tr -d '"')
    t0=$(now_ms)
    KNNS=()
    for p in "$L" "$F1" "$F2"; do
      redis-benchmark -p "$p" -n "$Q" -c 50 -q --csv "${knn[@]}" >/dev/null &
      KNNS+=($!)
    done
    wait "${KNNS[@]}"
    sum=$(( 3 * Q * 1000 / ( $(now_ms) - t0 ) ))
    echo "$S ft_search_knn10_qps_leader_only_${F}_docs $one" >>"$RESULTS"
    echo "$S ft_search_knn10_qps_leader_plus_2_followers_${F}_docs $sum" >>"$RESULTS"
  fi

  for p in "$F3" "$F2" "$F1" "$L"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  sleep 0.5
done

echo
echo "| metric | ${SERVERS// / | } |"
echo "|---|$(for _ in $SERVERS; do printf -- '---|'; done)"
for m in $(awk '{print $2}' "$RESULTS" | awk '!seen[$0]++'); do
  row="| $m |"
  for S in $SERVERS; do row="$row $(awk -v s="$S" -v m="$m" '$1==s && $2==m {print $3}' "$RESULTS") |"; done
  echo "$row"
done
