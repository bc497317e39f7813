#!/usr/bin/env bash
# Copy-on-write growth of a BGSAVE child, ragkv next to Debian's
# redis-server 7.0, in one run: both load KEYS keys (SET key:N with a
# VALUE-byte value), then
#   idle: BGSAVE with no client writing;
#   load: BGSAVE while redis-benchmark overwrites random keys of the same
#         key space (SET, -c 50 -P 16), started just before and stopped just
#         after the save;
# and report each save's rdb_last_cow_size (the child's Private_Dirty at its
# end, both servers) next to the data set's size (the server's RSS before the
# save), the save's duration and the SETs applied during it.
#
# Usage: bench/persistence/cow.sh [path/to/ragkv]
# Env:   KEYS (1000000), VALUE (100)
# Needs: redis-server, redis-cli, redis-benchmark, python3. Writes only under a
# mktemp directory; kills only the servers and clients it started.
set -euo pipefail

RAGKV=${1:-build/release/ragkv}
KEYS=${KEYS:-1000000}
VALUE=${VALUE:-100}
WORK=$(mktemp -d /tmp/ragkv-cow-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {  # ragkv|redis DIR -> PORT, PID
  local kind=$1 dir=$2
  PORT=$(free_port)
  mkdir -p "$dir"
  if [ "$kind" = ragkv ]; then
    "$RAGKV" serve --port "$PORT" --dir "$dir" --appendonly no --save "" >"$dir/stdout" 2>"$dir/log" &
  else
    redis-server --port "$PORT" --dir "$dir" --appendonly no --save "" --daemonize no \
      --logfile "$dir/log" &
  fi
  PID=$!
  PIDS+=("$PID")
  until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.005; done
}
field() { redis-cli -p "$PORT" info "$1" | tr -d '\r' | awk -F: -v k="$2" '$1==k{print $2}'; }
rss_mb() { awk '/VmRSS/{printf "%d", $2/1024}' "/proc/$PID/status"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
bgsave() {  # waits (at most 60 s) for the save to end; prints its wall time in ms
  local t0 saves reply
  saves=$(field persistence rdb_saves)
  t0=$(now_ms)
  reply=$(redis-cli -p "$PORT" bgsave)
  case "$reply" in *started*) ;; *) echo "BGSAVE refused: $reply" >&2; exit 1 ;; esac
  for _ in $(seq 6000); do
    [ "$(field persistence rdb_saves)" != "$saves" ] && break
    sleep 0.01
  done
  echo $(( $(now_ms) - t0 ))
}

python3 - "$KEYS" "$VALUE" >"$WORK/load.resp" <<'PY'
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
v = b"x" * size
out = sys.stdout.buffer
for start in range(0, n, 100000):
    out.write(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                       % (len(k), k, size, v) for k in (b"key:%012d" % i for i in range(start, min(n, start + 100000)))))
PY

echo "# BGSAVE copy-on-write, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $KEYS keys x $VALUE-byte values"
echo
echo "| server | BGSAVE | RSS before (MiB) | save (ms) | SETs during save | rdb_last_cow_size (MiB) | cow / RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for kind in redis ragkv; do
  start_server "$kind" "$WORK/$kind"
  redis-cli -p "$PORT" --pipe <"$WORK/load.resp" >/dev/null
  for mode in idle load; do
    rss=$(rss_mb)
    sets0=$(field stats total_commands_processed)
    BENCH=
    if [ "$mode" = load ]; then
      redis-benchmark -p "$PORT" -t set -n 100000000 -c 50 -P 16 -r "$KEYS" -d "$VALUE" -q \
        >/dev/null 2>&1 &
      BENCH=$!
      PIDS+=("$BENCH")
      sleep 0.5
      sets0=$(field stats total_commands_processed)
    fi
    ms=$(bgsave)
    sets=$(( $(field stats total_commands_processed) - sets0 ))
    [ -n "$BENCH" ] && { kill "$BENCH" 2>/dev/null || true; wait "$BENCH" 2>/dev/null || true; }
    cow=$(field persistence rdb_last_cow_size)
    awk -v k="$kind" -v m="$mode" -v r="$rss" -v ms="$ms" -v s="$sets" -v c="$cow" 'BEGIN {
      printf "| %s | %s | %d | %d | %d | %.1f | %.2f |\n", k, m, r, ms, s, c / 1048576, c / 1048576 / r }'
  done
  redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  wait "$PID" 2>/dev/null || true
done
