#!/usr/bin/env bash
# Side-by-side throughput of `ragkv serve` and Debian's redis-server with
# redis-benchmark: SET GET INCR HSET ZADD MSET, -c 50, -P 1 and -P 16.
# Both servers are started here on free loopback ports (redis-server with
# --save '' --appendonly no) and benchmarked one after the other, test by
# test, so they never compete for the CPU. Prints a table of ops/s, p50, p99
# and the ratio ragkv/redis, plus each server's CPU time per request (user +
# sys of the server process over the run, from /proc): throughput on a busy
# shared machine is noisy, CPU per request much less so.
#
# Usage: bench/kv/run.sh [-n requests] [-c clients] [-r keyspace] [-P "1 16"]
#   env RAGKV=path/to/ragkv (default build/release/ragkv), PIN=1 to pin CPUs
set -euo pipefail

N=1000000
C=50
R=100000
PIPELINES="1 16"
TESTS="set get incr hset zadd mset"
while getopts "n:c:r:P:t:" opt; do
  case $opt in
    n) N=$OPTARG ;;
    c) C=$OPTARG ;;
    r) R=$OPTARG ;;
    P) PIPELINES=$OPTARG ;;
    t) TESTS=$OPTARG ;;
    *) echo "usage: $0 [-n requests] [-c clients] [-r keyspace] [-P \"1 16\"] [-t tests]" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RAGKV=${RAGKV:-$ROOT/build/release/ragkv}
for tool in redis-server redis-benchmark redis-cli python3; do
  command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[ -x "$RAGKV" ] || { echo "build ragkv first: $RAGKV not found" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/ragkv-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# PIN=1: servers on CPU 0, redis-benchmark on CPU 1 (taskset), so client and
# server do not share a core. Only useful on a quiet machine: on a shared one
# it stops the scheduler from moving the server off a busy core.
SERVER_CPU=()
CLIENT_CPU=()
if [ "${PIN:-0}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SERVER_CPU=(taskset -c 0)
  CLIENT_CPU=(taskset -c 1)
fi

RPORT=$(free_port)
"${SERVER_CPU[@]}" redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  --logfile "$WORK/redis.log" &
PIDS+=($!)
REDIS_PID=$!
KPORT=$(free_port)
"${SERVER_CPU[@]}" "$RAGKV" serve --port "$KPORT" --bind 127.0.0.1 >"$WORK/ragkv.out" 2>"$WORK/ragkv.log" &
PIDS+=($!)
RAGKV_PID=$!
for port in "$RPORT" "$KPORT"; do
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
done

echo "redis-benchmark -n $N -c $C -r $R, P in {$PIPELINES}; $(redis-server --version | cut -d' ' -f3) vs ragkv $("$RAGKV" version | cut -d' ' -f2)"
echo "$(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')${SERVER_CPU:+; servers pinned to CPU 0, redis-benchmark to CPU 1}"
printf "\n| %-6s | %2s | %12s | %12s | %6s | %9s | %9s | %9s | %9s | %11s | %11s |\n" \
  test P "ragkv ops/s" "redis ops/s" ratio "ragkv p50" "redis p50" "ragkv p99" "redis p99" \
  "ragkv cpu/op" "redis cpu/op"
printf "|--------|----|--------------|--------------|--------|-----------|-----------|-----------|-----------|-------------|-------------|\n"

# CPU ticks (user + sys) used so far by a process.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Prints "rps p50 p99 cpu_us_per_op" for one test against one server.
measure() {
  local port=$1 pid=$2 test=$3 p=$4
  redis-cli -p "$port" flushall >/dev/null
  local before after
  before=$(cpu_ticks "$pid")
  local line
  line=$("${CLIENT_CPU[@]}" redis-benchmark -p "$port" -n "$N" -c "$C" -r "$R" -P "$p" -t "$test" --csv -q 2>/dev/null |
    awk -F'","' 'NR==2 { print $2, $5, $7 }')
  after=$(cpu_ticks "$pid")
  echo "$line $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$N" \
    'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
}

for p in $PIPELINES; do
  for t in $TESTS; do
    read -r krps kp50 kp99 kcpu < <(measure "$KPORT" "$RAGKV_PID" "$t" "$p")
    read -r rrps rp50 rp99 rcpu < <(measure "$RPORT" "$REDIS_PID" "$t" "$p")
    ratio=$(awk -v a="$krps" -v b="$rrps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf "| %-6s | %2s | %12.0f | %12.0f | %6s | %9s | %9s | %9s | %9s | %9sus | %9sus |\n" \
      "$(echo "$t" | tr a-z A-Z)" "$p" "$krps" "$rrps" "$ratio" "$kp50" "$rp50" "$kp99" "$rp99" \
      "$kcpu" "$rcpu"
  done
done
