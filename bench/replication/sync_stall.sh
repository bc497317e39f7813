#!/usr/bin/env bash
# Full-sync stall benchmark: how long a leader's event loop stops answering
# while a new follower full-syncs, and how long that sync takes.
#
# For each binary given (label=path; Debian's redis-server as "redis"), one
# after the other so they never compete:
#   1. a leader is loaded with K string keys (16-byte values), a PING probe
#      (ping_probe.py: one PING per ms, round trips timed) runs against it,
#      a new follower is started and the script waits until the follower's
#      offset equals the leader's; the probe's max is the longest stall;
#   2. the same with V hashes holding a 512-byte vector blob.
#
# Usage: bench/replication/sync_stall.sh [-k keys] [-v vectors] label=path|redis ...
#   e.g. bench/replication/sync_stall.sh -k 1000000 -v 1000000 \
#          before=/tmp/ragkv-before after=build/release/ragkv redis
set -euo pipefail

K=1000000
V=1000000
while getopts "k:v:" opt; do
  case $opt in
    k) K=$OPTARG ;;
    v) V=$OPTARG ;;
    *) echo "usage: $0 [-k keys] [-v vectors] label=path|redis ..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "name at least one server (label=path or redis)" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d /tmp/ragkv-syncstall-XXXXXX)
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

# start <label> <binary|redis> <port> <dir> [replicaof-port]
start() {
  local bin=$2 port=$3 dir=$4 of=${5:-}
  mkdir -p "$dir"
  if [ "$bin" = redis ]; then
    local args=(--port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no
                --repl-backlog-size 64mb --repl-diskless-sync yes --repl-diskless-sync-delay 0
                --logfile "$dir/log")
    [ -n "$of" ] && args+=(--replicaof 127.0.0.1 "$of")
    redis-server "${args[@]}" &
  else
    local args=(serve --port "$port" --bind 127.0.0.1 --dir "$dir" --repl-backlog-size 64mb)
    [ -n "$of" ] && args+=(--replicaof "127.0.0.1 $of")
    "$bin" "${args[@]}" >"$dir/out" 2>"$dir/log" &
  fi
  PIDS+=($!)
  for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
}

wait_synced() {  # leader follower
  for _ in $(seq 30000); do
    [ "$(info "$2" master_link_status)" = up ] &&
      [ "$(info "$2" slave_repl_offset)" = "$(info "$1" master_repl_offset)" ] && return 0
    sleep 0.01
  done
  echo "follower never caught up" >&2
  return 1
}

"$PY" - "$K" >"$WORK/strings.resp" <<'PY'
import sys
n = int(sys.argv[1]); out = sys.stdout.buffer
for i in range(n):
    k = b"key:%d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%016d\r\n" % (len(k), k, i))
PY
"$PY" - "$V" >"$WORK/vectors.resp" <<'PY'
import os, sys
n = int(sys.argv[1]); out = sys.stdout.buffer
for i in range(n):
    k = b"vec:%d" % i
    out.write(b"*6\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$512\r\n%s\r\n$1\r\nt\r\n$5\r\ntitle\r\n"
              % (len(k), k, os.urandom(512)))
PY

printf "%-8s %-10s %14s %14s %14s %10s\n" server data full_sync_ms ping_max_ms ping_p99_ms samples
for spec in "$@"; do
  label=${spec%%=*}; bin=${spec#*=}
  [ "$spec" = redis ] && { label=redis; bin=redis; }
  for data in strings vectors; do
    L=$(free_port); F=$(free_port)
    start "$label" "$bin" "$L" "$WORK/$label-$data-l"
    redis-cli -p "$L" --pipe <"$WORK/$data.resp" >/dev/null
    stop="$WORK/$label-$data.stop"
    "$PY" "$ROOT/bench/replication/ping_probe.py" "$L" "$stop" >"$WORK/$label-$data.probe" &
    PROBE=$!
    sleep 0.5
    t0=$(now_ms)
    start "$label" "$bin" "$F" "$WORK/$label-$data-f" "$L"
    wait_synced "$L" "$F"
    ms=$(( $(now_ms) - t0 ))
    sleep 0.2
    touch "$stop"; wait "$PROBE"
    read -r pmax p99 p50 n <"$WORK/$label-$data.probe"
    printf "%-8s %-10s %14s %14s %14s %10s\n" "$label" "$data" "$ms" "$pmax" "$p99" "$n"
    [ "$(redis-cli -p "$F" dbsize)" = "$(redis-cli -p "$L" dbsize)" ] || echo "$label: dbsize mismatch" >&2
    redis-cli -p "$F" shutdown nosave >/dev/null 2>&1 || true
    redis-cli -p "$L" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.3
  done
done
