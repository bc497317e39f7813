#!/usr/bin/env bash
# Durability benchmark: ragkv vs Debian's redis-server 7.0, configured the
# same (appendonly yes, save "", same appendfsync), in one run on one machine.
#
#   1. redis-benchmark SET throughput with appendfsync always and everysec;
#   2. restart time with KEYS keys: from the AOF as written, and after
#      BGREWRITEAOF (ragkv: snapshot base; Redis: RDB preamble).
#
# Usage: bench/persistence/run.sh [path/to/ragkv]
# Env:   N (requests, 200000), C (clients, 50), P (pipeline, 1), KEYS (1000000)
# Writes only under a mktemp directory; kills only the servers it started.
set -euo pipefail

RAGKV=${1:-build/release/ragkv}
N=${N:-200000}
C=${C:-50}
P=${P:-1}
KEYS=${KEYS:-1000000}
WORK=$(mktemp -d /tmp/ragkv-bench-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server ragkv|redis DIR FSYNC -> sets PORT and PID
start_server() {
  local kind=$1 dir=$2 fsync=$3
  PORT=$(free_port)
  mkdir -p "$dir"
  if [ "$kind" = ragkv ]; then
    "$RAGKV" serve --port "$PORT" --dir "$dir" --appendonly yes --appendfsync "$fsync" \
      --save "" --auto-aof-rewrite-percentage 0 >"$dir/stdout" 2>"$dir/log" &
  else
    redis-server --port "$PORT" --dir "$dir" --appendonly yes --appendfsync "$fsync" \
      --save "" --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$dir/log" &
  fi
  PID=$!
  PIDS+=("$PID")
}

# Milliseconds until the server answers PING (includes loading the data).
wait_ready_ms() {
  local t0 t1
  t0=$(date +%s%N)
  until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.005; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}

stop_server() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; wait "$PID" 2>/dev/null || true; }

echo "# ragkv persistence benchmark, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"
echo "# redis-benchmark -t set -n $N -c $C -P $P -r 100000 -d 16"
echo
echo "| appendfsync | server | SET ops/s | p50 ms | fsyncs |"
echo "| --- | --- | --- | --- | --- |"
for fsync in always everysec; do
  for kind in redis ragkv; do
    dir="$WORK/$kind-$fsync"
    start_server "$kind" "$dir" "$fsync"
    wait_ready_ms >/dev/null
    line=$(redis-benchmark -p "$PORT" -t set -n "$N" -c "$C" -P "$P" -r 100000 -d 16 --csv | tail -1)
    ops=$(echo "$line" | cut -d, -f2 | tr -d '"')
    p50=$(echo "$line" | cut -d, -f4 | tr -d '"')
    fs=$(redis-cli -p "$PORT" info persistence | tr -d '\r' | awk -F: '/^aof_fsyncs/{print $2}')
    echo "| $fsync | $kind | $ops | $p50 | ${fs:-n/a} |"
    stop_server
  done
done

echo
echo "# restart time with $KEYS keys (SET key:N 16-byte value), ms until PING answers"
echo
echo "| server | from AOF (commands) | after BGREWRITEAOF (base snapshot) | AOF bytes | rewritten bytes |"
echo "| --- | --- | --- | --- | --- |"
python3 - "$KEYS" >"$WORK/load.resp" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(n):
    k = b"key:%d" % i
    v = b"v%015d" % i
    out.write("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k.decode(), len(v), v.decode()))
PY
for kind in redis ragkv; do
  dir="$WORK/$kind-restart"
  start_server "$kind" "$dir" everysec
  wait_ready_ms >/dev/null
  redis-cli -p "$PORT" --pipe <"$WORK/load.resp" >/dev/null
  stop_server
  aof_bytes=$(du -sb "$dir/appendonlydir" | cut -f1)
  start_server "$kind" "$dir" everysec
  t_aof=$(wait_ready_ms)
  n=$(redis-cli -p "$PORT" dbsize)
  [ "$n" = "$KEYS" ] || { echo "$kind loaded $n keys, expected $KEYS" >&2; exit 1; }
  redis-cli -p "$PORT" bgrewriteaof >/dev/null
  until redis-cli -p "$PORT" info persistence | grep -q 'aof_rewrite_in_progress:0'; do sleep 0.05; done
  sleep 0.2
  stop_server
  rw_bytes=$(du -sb "$dir/appendonlydir" | cut -f1)
  start_server "$kind" "$dir" everysec
  t_base=$(wait_ready_ms)
  n=$(redis-cli -p "$PORT" dbsize)
  [ "$n" = "$KEYS" ] || { echo "$kind loaded $n keys after rewrite, expected $KEYS" >&2; exit 1; }
  stop_server
  echo "| $kind | $t_aof | $t_base | $aof_bytes | $rw_bytes |"
done
