#!/usr/bin/env bash
# Restart time of a server holding N vectors in an FT HNSW index, both ways,
# end to end through `ragkv serve` (loading precedes listening, so the time
# to the first PONG is the load time):
#
#   (b) saved: the AOF base (after BGREWRITEAOF with vector-index-snapshot
#       yes, the default) holds the hashes, the index definition and the
#       HNSW graph; loading adopts the graph after checking it against the
#       keys;
#   (a) rebuild: the same with vector-index-snapshot no: the base holds the
#       hashes and the definition only, and replaying FT.CREATE re-inserts
#       every vector into a new graph.
#
# (b) runs first, so a run cut short (a large N on a slow machine) still
# reports it. Each restart also answers one KNN query (vec:0's vector, k=10,
# EF_RUNTIME 100) and reports num_docs and the server's peak resident memory
# (VmHWM); (b)'s reply must be byte-identical to the live server's before the
# restart (the same graph), (a)'s must contain vec:0.
#
# Usage: bench/persistence/vector_restart.sh [build dir, default build/release]
# Env:   N (vectors, 100000), DIM (128), SKIP_REBUILD=1 to skip (a)
# Needs: ragkv (target ragkv), redis-cli, /usr/bin/python3 with numpy (Debian python3-numpy).
# Writes only under a mktemp directory; kills only the server it started.
set -euo pipefail

BUILD=${1:-build/release}
RAGKV=$BUILD/ragkv
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
rewrite() {  # prints the rewrite's wall time in ms
  local t0; t0=$(now_ms)
  redis-cli -p "$PORT" bgrewriteaof >/dev/null
  sleep 0.1
  until redis-cli -p "$PORT" info persistence | tr -d '\r' | grep -q '^aof_rewrite_in_progress:0'; do
    sleep 0.05
  done
  echo $(( $(now_ms) - t0 ))
  sleep 0.3  # the parent switches the manifest when it reaps the child (cron)
}
num_docs() { redis-cli -p "$PORT" ft.info idx | awk 'f{print; exit} /^num_docs$/{f=1}'; }
peak_rss_mb() { awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$PID/status"; }
base_bytes() { stat -c %s "$WORK"/appendonlydir/*.base.rks | tail -1; }
knn_ms() {  # one KNN query with vec:0's vector; prints its latency, the reply goes to $1
  /usr/bin/python3 - "$PORT" "$1" <<'PY'
import socket, sys, time
def cmd(s, *args):
    out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    s.sendall(out)
    return s.recv(1 << 20)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
blob = cmd(s, b"HGET", b"vec:0", b"v")
blob = blob[blob.index(b"\r\n") + 2:-2]
t0 = time.perf_counter()
r = cmd(s, b"FT.SEARCH", b"idx", b"*=>[KNN 10 @v $q EF_RUNTIME 100 AS d]", b"PARAMS", b"2",
        b"q", blob, b"RETURN", b"1", b"d", b"DIALECT", b"2")
print("%.1f" % ((time.perf_counter() - t0) * 1000))
open(sys.argv[2], "wb").write(r)
PY
}
restart() {  # $1: label
  local t0 ms docs q
  t0=$(now_ms); start_server; ms=$(wait_ready_ms "$t0")
  q=$(knn_ms "$WORK/$2.reply")
  docs=$(num_docs)
  echo "$1: ${ms} ms until PING, first KNN answered in ${q} ms, num_docs=$docs, peak RSS $(peak_rss_mb) MiB"
  [ "$docs" = "$N" ] || { echo "expected num_docs=$N" >&2; exit 1; }
}

echo "# ragkv vector restart, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), N=$N DIM=$DIM, HNSW M=16 EF_CONSTRUCTION=200"
/usr/bin/python3 - "$N" "$DIM" >"$WORK/load.resp" <<'PY'
import sys
import numpy as np
n, dim = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(42)
out = sys.stdout.buffer
for start in range(0, n, 10000):
    block = rng.uniform(-1, 1, size=(min(10000, n - start), dim)).astype("<f4")
    parts = []
    for j, row in enumerate(block):
        i = start + j
        blob = row.tobytes()
        key = b"vec:%d" % i
        tag = b"t%d" % (i % 10)
        parts.append(b"*6\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$%d\r\n%s\r\n$3\r\ntag\r\n$%d\r\n%s\r\n"
                     % (len(key), key, len(blob), blob, len(tag), tag))
    out.write(b"".join(parts))
PY

start_server
wait_ready_ms "$(now_ms)" >/dev/null
redis-cli -p "$PORT" --pipe <"$WORK/load.resp" >/dev/null
rm -f "$WORK/load.resp"
t0=$(now_ms)
redis-cli -p "$PORT" ft.create idx on hash prefix 1 vec: schema v vector hnsw 6 type float32 \
  dim "$DIM" distance_metric l2 tag tag >/dev/null
echo "FT.CREATE over $N loaded hashes (initial scan, the work of a rebuild): $(( $(now_ms) - t0 )) ms"

knn_ms "$WORK/live.reply" >/dev/null
redis-cli -p "$PORT" config set vector-index-snapshot yes >/dev/null
ms=$(rewrite)
echo "BGREWRITEAOF with the saved index: ${ms} ms, base $(base_bytes) bytes"
stop_server
restart "(b) restart, saved index adopted" saved
grep -o 'adopted .*' "$WORK/log" | tail -1 | sed 's/^/    log: /'
# The adopted graph is the live one: the same query gives the same bytes.
cmp -s "$WORK/live.reply" "$WORK/saved.reply" || { echo "(b) answered differently" >&2; exit 1; }

if [ "${SKIP_REBUILD:-0}" != 1 ]; then
  redis-cli -p "$PORT" config set vector-index-snapshot no >/dev/null
  ms=$(rewrite)
  echo "BGREWRITEAOF without it: ${ms} ms, base $(base_bytes) bytes"
  stop_server
  restart "(a) restart, index rebuilt from the keyspace" rebuilt
  grep -q 'vec:0' "$WORK/rebuilt.reply" || { echo "(a) lost vec:0" >&2; exit 1; }
fi
stop_server
