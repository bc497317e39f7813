#!/usr/bin/python3
"""FT.SEARCH on a RAG collection through `ragkv serve`, two builds side by side.

For each build: copy DATA (a data directory written by `ragkv ingest --data`)
to a scratch directory, start `ragkv serve` on it, time the restart until the
collection's FT index is built (FT.INFO indexing 0), then time the FT.SEARCH
shapes the RAG store sends (docs/rag.md): per-term counts (LIMIT 0 0), a BM25
top-50 disjunction of rare and of common words, and a KNN 50 over the FLAT
vector field. Builds alternate per round so both see the same machine load.

  bench/search/text_query_bench.py DATA OLD_RAGKV NEW_RAGKV [rounds] [reps]

Needs python3-redis (Debian's /usr/bin/python3).
"""
import os
import random
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import redis

INDEX = "ragkv:default"
QUERIES = [
    ("count, rare word", ["@title|text:garbage", "NOCONTENT", "LIMIT", "0", "0", "DIALECT", "2"]),
    ("count, common word", ["@title|text:data", "NOCONTENT", "LIMIT", "0", "0", "DIALECT", "2"]),
    ("BM25 top 50, 3 rare words", ["garbage | collection | memory", "NOCONTENT", "WITHSCORES",
                                   "SCORER", "BM25", "LIMIT", "0", "50", "DIALECT", "2"]),
    ("BM25 top 50, 3 common words", ["data | program | computer", "NOCONTENT", "WITHSCORES",
                                     "SCORER", "BM25", "LIMIT", "0", "50", "DIALECT", "2"]),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_build(binary, data, reps):
    scratch = tempfile.mkdtemp(prefix="ragkv-textq-")
    try:
        shutil.copytree(data, scratch, dirs_exist_ok=True)
        lock = os.path.join(scratch, "ragkv.lock")
        if os.path.exists(lock):
            os.remove(lock)
        port = free_port()
        start = time.perf_counter()
        server = subprocess.Popen([binary, "serve", "--port", str(port), "--bind", "127.0.0.1",
                                   "--dir", scratch, "--appendonly", "yes"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            r = redis.Redis(port=port)
            while True:
                try:
                    info = r.execute_command("FT.INFO", INDEX)
                    fields = dict(zip(info[::2], info[1::2]))
                    if int(fields.get(b"indexing", 0)) == 0:
                        break
                except (redis.ConnectionError, redis.ResponseError):
                    pass
                time.sleep(0.01)
            ready = time.perf_counter() - start
            dim = 1024
            rng = random.Random(1)
            vec = struct.pack(f"{dim}f", *[rng.gauss(0, 1) for _ in range(dim)])
            shapes = QUERIES + [("KNN 50 (FLAT, IP, 1024-d)",
                                 ["*=>[KNN 50 @embedding $vec AS dist]", "PARAMS", "2", "vec", vec,
                                  "SORTBY", "dist", "RETURN", "1", "dist", "LIMIT", "0", "50",
                                  "DIALECT", "2"])]
            out = {"ready_s": ready}
            for name, args in shapes:
                times = []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    r.execute_command("FT.SEARCH", INDEX, *args)
                    times.append((time.perf_counter() - t0) * 1000)
                out[name] = statistics.median(times)
            return out
        finally:
            server.terminate()
            server.wait()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    data, old, new = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 30
    load = open("/proc/loadavg").read().split()[:3]
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"load {' '.join(load)}; p50 of {reps} queries per shape, {rounds} rounds")
    results = {"old": [], "new": []}
    for _ in range(rounds):
        for side, binary in (("old", old), ("new", new)):
            results[side].append(run_build(binary, data, reps))
    names = ["ready_s"] + [n for n, _ in QUERIES] + ["KNN 50 (FLAT, IP, 1024-d)"]
    print("| | old | new | old / new |")
    print("|---|---|---|---|")
    for name in names:
        o = [r[name] for r in results["old"]]
        n = [r[name] for r in results["new"]]
        unit = "s" if name == "ready_s" else "ms"
        label = "restart until indexed" if name == "ready_s" else f"{name}, p50"
        fmt = (lambda v: f"{v:.2f}") if unit == "s" else (lambda v: f"{v:.3f}")
        print(f"| {label} ({unit}) | {' / '.join(fmt(v) for v in o)} | "
              f"{' / '.join(fmt(v) for v in n)} | {statistics.median(o) / statistics.median(n):.1f}x |")


if __name__ == "__main__":
    main()
