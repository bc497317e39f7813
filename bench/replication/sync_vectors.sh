#!/usr/bin/env bash
# Full sync of a leader holding N vectors in an FT HNSW index, for each given
# ragkv binary: time from the follower's start until its link is up at the
# leader's offset, and until it answers an FT.SEARCH KNN query with k
# results. A binary whose full sync carries the saved vector index lets the
# follower adopt the graph; one that does not makes it re-insert every vector.
#
# The data set is built once (the first binary, synchronous FT.CREATE over
# the loaded hashes, then SAVE); every leader starts from a copy of that
# snapshot, so each one serves the same graph. The follower's KNN reply
# (EF_RUNTIME 100, vec:0's vector) is compared with its leader's.
#
# Usage: bench/replication/sync_vectors.sh label=path/to/ragkv [label=path ...]
# Env:   N (vectors, 100000), DIM (128), LEADER_SNAPSHOT_VECTORS (yes|no: the
#        leaders' vector-index-snapshot, default yes)
# Needs: redis-cli, /usr/bin/python3 with numpy. Writes only under a mktemp
# directory; kills only the servers it started.
set -euo pipefail

N=${N:-100000}
DIM=${DIM:-128}
SNAP=${LEADER_SNAPSHOT_VECTORS:-yes}
WORK=$(mktemp -d /tmp/ragkv-syncvec-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
serve() {  # binary port dir [args...]: starts a server, sets PID
  local bin=$1 port=$2 dir=$3; shift 3
  mkdir -p "$dir"
  "$bin" serve --port "$port" --dir "$dir" --appendonly no --save "" "$@" \
    >>"$dir/stdout" 2>>"$dir/log" &
  PID=$!
  PIDS+=("$PID")
}
wait_pong() { until redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; do sleep 0.005; done; }
info() { redis-cli -p "$1" info "$2" | tr -d '\r' | awk -F: -v k="$3" '$1==k{print $2}'; }
knn() {  # port out-file: one KNN query with vec:0's vector; exit 1 unless k results
  /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, sys
def cmd(s, *args):
    s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    data = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk: break
        data += chunk
        if data.endswith(b"\r\n") and (len(chunk) < 65536): break
    return data
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
blob = cmd(s, b"HGET", b"vec:0", b"v")
if not blob.startswith(b"$") or blob.startswith(b"$-1"): sys.exit(1)
blob = blob[blob.index(b"\r\n") + 2:-2]
r = cmd(s, b"FT.SEARCH", b"idx", b"*=>[KNN 10 @v $q EF_RUNTIME 100 AS d]", b"PARAMS", b"2",
        b"q", blob, b"RETURN", b"1", b"d", b"DIALECT", b"2")
open(sys.argv[2], "wb").write(r)
sys.exit(0 if r.startswith(b"*21\r\n:10\r\n") else 1)
PY
}

echo "# ragkv full sync of an HNSW index, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), N=$N DIM=$DIM, HNSW M=16 EF_CONSTRUCTION=200, leaders' vector-index-snapshot $SNAP"
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
        key, blob = b"vec:%d" % (start + j), row.tobytes()
        parts.append(b"*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n$%d\r\n%s\r\n"
                     % (len(key), key, len(blob), blob))
    out.write(b"".join(parts))
PY

FIRST=${1#*=}
P=$(free_port)
serve "$FIRST" "$P" "$WORK/seed"
wait_pong "$P"
redis-cli -p "$P" --pipe <"$WORK/load.resp" >/dev/null
rm -f "$WORK/load.resp"
t0=$(now_ms)
redis-cli -p "$P" ft.create idx on hash prefix 1 vec: schema v vector hnsw 6 type float32 \
  dim "$DIM" distance_metric l2 >/dev/null
until [ "$(redis-cli -p "$P" ft.info idx | awk 'f{print; exit} /^num_docs$/{f=1}')" = "$N" ]; do
  sleep 0.2
done
echo "leader's index built in $(( $(now_ms) - t0 )) ms"
redis-cli -p "$P" save >/dev/null
redis-cli -p "$P" shutdown nosave >/dev/null 2>&1 || true
sleep 0.5

for spec in "$@"; do
  label=${spec%%=*}
  bin=${spec#*=}
  LP=$(free_port); FP=$(free_port)
  mkdir -p "$WORK/$label-leader"
  cp "$WORK/seed/dump.rks" "$WORK/$label-leader/"
  serve "$bin" "$LP" "$WORK/$label-leader" --vector-index-snapshot "$SNAP"
  LPID=$PID
  wait_pong "$LP"
  knn "$LP" "$WORK/$label-leader.reply"
  t0=$(now_ms)
  serve "$bin" "$FP" "$WORK/$label-follower" --replicaof "127.0.0.1 $LP"
  FPID=$PID
  until [ "$(info "$FP" replication master_link_status)" = "up" ]; do sleep 0.01; done
  link=$(( $(now_ms) - t0 ))
  until knn "$FP" "$WORK/$label-follower.reply" 2>/dev/null; do sleep 0.01; done
  answer=$(( $(now_ms) - t0 ))
  same=no
  cmp -s "$WORK/$label-leader.reply" "$WORK/$label-follower.reply" && same=yes
  adopted=$(info "$FP" persistence search_saved_vector_fields_adopted)
  cow=$(info "$LP" persistence rdb_last_cow_size)
  echo "$label: link up ${link} ms, first KNN answered ${answer} ms, reply identical to leader's: $same, follower adopted: ${adopted:-n/a}, leader's sync child cow: ${cow:-n/a} bytes"
  kill -9 "$LPID" "$FPID" 2>/dev/null || true
  wait "$LPID" "$FPID" 2>/dev/null || true
done
