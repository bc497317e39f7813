#!/usr/bin/env bash
# Restart time of a server holding N vectors in an FT HNSW index, two ways:
#
#   (a) rebuild: the snapshot (AOF base after BGREWRITEAOF) holds the hashes
#       and the index definition; loading replays FT.CREATE, whose initial
#       scan re-inserts every vector into HNSW (the current default);
#   (b) load: the vector engine's own format (VectorIndex::Save/Load),
#       measured by vector_load_bench on the same number of vectors, plus the
#       server's restart time for the same hashes with no index (the part of
#       the restart that (b) cannot avoid).
#
# Usage: bench/persistence/vector_restart.sh [build dir, default build/release]
# Env:   N (vectors, 100000), DIM (128)
# Needs: ragkv (target ragkv) and vector_load_bench (-DRAGKV_BUILD_BENCH=ON).
# Writes only under a mktemp directory; kills only the server it started.
set -euo pipefail

BUILD=${1:-build/release}
RAGKV=$BUILD/ragkv
LOADBENCH=$BUILD/bench/persistence/vector_load_bench
N=${N:-100000}
DIM=${DIM:-128}
WORK=$(mktemp -d /tmp/ragkv-vrestart-XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_server() {
  "$RAGKV" serve --port "$PORT" --dir "$WORK" --appendonly yes --appendfsync everysec \
    --save "" --auto-aof-rewrite-percentage 0 >>"$WORK/stdout" 2>>"$WORK/log" &
  PID=$!
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
wait_ready_ms() {
  local t0=$1
  until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.005; done
  echo $(( $(now_ms) - t0 ))
}
stop_server() { redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; wait "$PID" 2>/dev/null || true; PID=; }
rewrite() {
  redis-cli -p "$PORT" bgrewriteaof >/dev/null
  sleep 0.2
  until redis-cli -p "$PORT" info persistence | tr -d '\r' | grep -q '^aof_rewrite_in_progress:0'; do
    sleep 0.1
  done
  sleep 0.5  # the parent switches the manifest when it reaps the child (cron)
}
num_docs() { redis-cli -p "$PORT" ft.info idx | awk 'f{print; exit} /^num_docs$/{f=1}'; }

echo "# ragkv vector restart, $(date -u +%FT%TZ), $(nproc) cores, N=$N DIM=$DIM, HNSW M=16 EF_CONSTRUCTION=200"
python3 - "$N" "$DIM" >"$WORK/load.resp" <<'PY'
import struct, sys, random
n, dim = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(42)
out = sys.stdout.buffer
for i in range(n):
    key = b"vec:%d" % i
    blob = struct.pack("<%df" % dim, *(rnd.uniform(-1, 1) for _ in range(dim)))
    parts = [b"HSET", key, b"v", blob, b"tag", b"t%d" % (i % 10)]
    out.write(b"*%d\r\n" % len(parts))
    for p in parts:
        out.write(b"$%d\r\n%s\r\n" % (len(p), p))
PY

start_server
wait_ready_ms "$(now_ms)" >/dev/null
redis-cli -p "$PORT" --pipe <"$WORK/load.resp" >/dev/null
t0=$(now_ms)
redis-cli -p "$PORT" ft.create idx on hash prefix 1 vec: schema v vector hnsw 6 type float32 \
  dim "$DIM" distance_metric l2 tag tag >/dev/null
create_ms=$(( $(now_ms) - t0 ))
echo "FT.CREATE over $N loaded hashes (initial scan): ${create_ms} ms"
rewrite
stop_server

t0=$(now_ms); start_server; rebuild_ms=$(wait_ready_ms "$t0")
docs=$(num_docs)
echo "(a) restart, index rebuilt from the keyspace: ${rebuild_ms} ms until PING (num_docs=$docs)"
[ "$docs" = "$N" ] || { echo "expected num_docs=$N" >&2; exit 1; }

redis-cli -p "$PORT" ft.dropindex idx >/dev/null
rewrite
stop_server
t0=$(now_ms); start_server; plain_ms=$(wait_ready_ms "$t0")
echo "    restart, same hashes, no index: ${plain_ms} ms until PING"
stop_server

if [ -x "$LOADBENCH" ]; then
  line=$("$LOADBENCH" "$N" "$DIM" 16 200)
  echo "(b) vector engine, same N and DIM: $line"
else
  echo "(b) $LOADBENCH not built (configure with -DRAGKV_BUILD_BENCH=ON)"
fi
