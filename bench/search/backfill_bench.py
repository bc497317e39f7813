#!/usr/bin/python3
"""FT.CREATE backfill: background on a live server vs synchronous at load.

Usage: bench/search/backfill_bench.py [n_docs] [dim]
  env RAGKV=path/to/ragkv (default build/release/ragkv)

1. Starts `ragkv serve`, loads n_docs hashes (seeded random float32 vectors,
   pipelined HSET, no index yet), SAVEs, and restarts: load time L0.
2. A paced probe connection sends GET every 1 ms for 2 s: idle p50/p99.
3. FT.CREATE (HNSW M 16, EF_CONSTRUCTION 200, L2) over the existing keys:
   the reply time, then FT.INFO is polled until indexing 0: backfill time B,
   while the probe keeps measuring GET latency.
4. SAVE and restart: load time L1, which includes the synchronous rebuild of
   the index at load, so L1 - L0 is the synchronous backfill time.
Prints one Markdown table row set. Needs python3-redis and python3-numpy.
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import redis

N = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
DIM = int(sys.argv[2]) if len(sys.argv) > 2 else 128
RAGKV = os.environ.get("RAGKV", "build/release/ragkv")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(workdir, port):
    """Starts the server; returns (process, seconds until it printed its port)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [RAGKV, "serve", "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir,
         "--save", ""],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("port "):
            return proc, time.perf_counter() - t0
    raise RuntimeError("server did not start")


def stop(proc):
    proc.terminate()
    proc.wait(timeout=60)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


class Probe(threading.Thread):
    """One GET per millisecond on its own connection; latencies in us."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.client = redis.Redis(port=port)
        self.samples = []
        self.running = True

    def run(self):
        while self.running:
            t0 = time.perf_counter()
            assert self.client.get("plain") == b"value"
            self.samples.append((time.perf_counter() - t0) * 1e6)
            time.sleep(0.001)

    def take(self):
        out, self.samples = self.samples, []
        return out


def main():
    workdir = tempfile.mkdtemp(prefix="ragkv-backfill-")
    port = free_port()
    proc, _ = start(workdir, port)
    r = redis.Redis(port=port)
    rng = np.random.default_rng(1)
    pipe = r.pipeline(transaction=False)
    for i in range(N):
        pipe.hset(f"d:{i}", mapping={"v": rng.random(DIM, dtype=np.float32).tobytes(), "t": "x"})
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    r.set("plain", "value")
    r.save()
    stop(proc)

    proc, load_keys = start(workdir, port)
    r = redis.Redis(port=port)
    probe = Probe(port)
    probe.start()
    time.sleep(2)
    idle = probe.take()
    t0 = time.perf_counter()
    r.execute_command("FT.CREATE", "idx", "PREFIX", "1", "d:", "SCHEMA", "v", "VECTOR", "HNSW",
                      "10", "TYPE", "FLOAT32", "DIM", DIM, "DISTANCE_METRIC", "L2", "M", 16,
                      "EF_CONSTRUCTION", 200, "t", "TAG")
    reply_ms = (time.perf_counter() - t0) * 1e3
    while True:
        info = r.execute_command("FT.INFO", "idx")
        fields = dict(zip(info[::2], info[1::2]))
        if int(fields[b"indexing"]) == 0:
            break
        time.sleep(0.05)
    background_s = time.perf_counter() - t0
    during = probe.take()
    probe.running = False
    probe.join()
    docs = int(fields[b"num_docs"])
    r.save()
    stop(proc)

    proc, load_with_index = start(workdir, port)
    r = redis.Redis(port=port)
    info = r.execute_command("FT.INFO", "idx")
    fields = dict(zip(info[::2], info[1::2]))
    assert int(fields[b"num_docs"]) == N, fields[b"num_docs"]
    stop(proc)
    sync_s = load_with_index - load_keys

    print(f"{N} docs, dim {DIM}, HNSW M 16 EF_CONSTRUCTION 200, {os.cpu_count()} cores")
    print("| backfill | seconds | docs/s |")
    print("|---|---|---|")
    print(f"| synchronous, at load (L1 - L0 = {load_with_index:.2f} - {load_keys:.2f}) "
          f"| {sync_s:.2f} | {N / sync_s:.0f} |")
    print(f"| background, live (FT.CREATE replied in {reply_ms:.1f} ms) "
          f"| {background_s:.2f} | {docs / background_s:.0f} |")
    print(f"ratio background / synchronous: {background_s / sync_s:.2f}")
    print("| GET (1/ms probe) | samples | p50 us | p99 us | max us |")
    print("|---|---|---|---|---|")
    for name, s in (("idle", idle), ("during backfill", during)):
        print(f"| {name} | {len(s)} | {percentile(s, 0.5):.0f} | {percentile(s, 0.99):.0f} "
              f"| {max(s):.0f} |")


if __name__ == "__main__":
    main()
