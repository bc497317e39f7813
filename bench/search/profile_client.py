#!/usr/bin/python3
"""One redis-py client for profiling the server's FT.SEARCH path.

  profile_client.py PORT N load     # FT.CREATE idx + HSET the first N vectors
  profile_client.py PORT 0 SECONDS  # FT.SEARCH KNN 10 back to back

Run against `ragkv serve` and profile the server meanwhile, e.g.
  perf record -F 4999 -g -p $(pgrep -f 'ragkv serve') -o perf.data -- sleep 5
  perf report -i perf.data --no-children --sort sym --stdio -g none
Data: /tmp/ann-data/fashion-mnist (shared/bench/ann_anchor/prepare_data.py).
"""
import sys
import time

import numpy as np
import redis

DATA = "/tmp/ann-data/fashion-mnist/"


def fvecs(path, limit):
    a = np.fromfile(path, dtype=np.int32)
    dim = a[0]
    return a.reshape(-1, dim + 1)[:limit, 1:].view(np.float32)


def main():
    port, n, phase = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    r = redis.Redis(port=port)
    if phase == "load":
        base = fvecs(DATA + "base.fvecs", n)
        r.flushall()
        r.execute_command("FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "doc:", "SCHEMA",
                          "v", "VECTOR", "HNSW", "10", "TYPE", "FLOAT32", "DIM", base.shape[1],
                          "DISTANCE_METRIC", "L2", "M", "16", "EF_CONSTRUCTION", "200",
                          "bucket", "TAG")
        p = r.pipeline(transaction=False)
        for i in range(n):
            p.hset("doc:%d" % i, mapping={"v": base[i].tobytes(), "bucket": str(i % 100)})
            if i % 500 == 499:
                p.execute()
        p.execute()
        return
    blobs = [q.tobytes() for q in fvecs(DATA + "query.fvecs", 200)]
    start, count = time.time(), 0
    while time.time() - start < float(phase):
        for b in blobs:
            r.execute_command("FT.SEARCH", "idx", "*=>[KNN 10 @v $B EF_RUNTIME 64 AS d]",
                              "SORTBY", "d", "RETURN", "1", "d", "PARAMS", "2", "B", b,
                              "DIALECT", "2")
            count += 1
    print("queries", count)


if __name__ == "__main__":
    main()
