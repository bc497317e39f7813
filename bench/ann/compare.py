#!/usr/bin/env python3
"""Side-by-side table for bench/ann/run.sh.

Reads JSON lines written by `ragkv bench ann --json` and `ann_reference`
(one object per engine/type/ef/round), takes the median over rounds, and
prints markdown: the raw curves, then QPS interpolated at equal recall
(0.90 / 0.95 / 0.99) with ratios against the baseline engine (hnswlib float32).
Interpolation is linear in recall on log(QPS) between the two measured ef
values that bracket the target recall; no extrapolation.
"""
import json
import math
import statistics
import sys
from collections import defaultdict


def load(paths):
    rows = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                key = (r["engine"], r["type"], r.get("filter", 0))
                rows[key].append(r)
    return rows


def curve(samples):
    by_ef = defaultdict(list)
    for r in samples:
        by_ef[r["ef"]].append(r)
    out = []
    for ef in sorted(by_ef):
        rs = by_ef[ef]
        out.append({
            "ef": ef,
            "recall": statistics.median(r["recall"] for r in rs),
            "distances": statistics.median(r.get("distances", 0) for r in rs),
            "qps": statistics.median(r["qps"] for r in rs),
            "p50_us": statistics.median(r["p50_us"] for r in rs),
            "p99_us": statistics.median(r["p99_us"] for r in rs),
            "build_s": statistics.median(r["build_s"] for r in rs),
            "index_mib": statistics.median(r["index_mib"] for r in rs),
            "rss_mib": statistics.median(r["rss_mib"] for r in rs),
            "rounds": len(rs),
        })
    return out


def value_at(points, target, field="qps"):
    """`field` interpolated (log-linear in recall) at recall `target`; None
    when no two measured points bracket the target."""
    for a, b in zip(points, points[1:]):
        if a["recall"] <= target <= b["recall"] and b["recall"] > a["recall"]:
            t = (target - a["recall"]) / (b["recall"] - a["recall"])
            return math.exp(math.log(a[field]) + t * (math.log(b[field]) - math.log(a[field])))
    return None


def qps_at(points, target):
    return value_at(points, target, "qps")


def main():
    rows = load(sys.argv[1:])
    curves = {key: curve(samples) for key, samples in rows.items()}
    base_key = next((k for k in curves if k[0] == "hnswlib"), None)
    print("| engine | type | filter | ef | recall@10 | dist/query | QPS | p50 µs | p99 µs | rounds |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in sorted(curves):
        for p in curves[key]:
            print(f"| {key[0]} | {key[1]} | {key[2]:g} | {p['ef']} | {p['recall']:.4f} | "
                  f"{p['distances']:,.0f} | "
                  f"{p['qps']:,.0f} | {p['p50_us']:.1f} | {p['p99_us']:.1f} | {p['rounds']} |")
    print()
    print("| engine | type | build s | index MiB | RSS MiB | QPS@0.90 | QPS@0.95 | QPS@0.99 | "
          "p50 µs@0.95 | QPS x hnswlib @0.95 | p50 speedup @0.95 | build x | memory x |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = curves.get(base_key)
    for key in sorted(curves):
        if key[2] != 0:
            continue
        pts = curves[key]
        at = {r: qps_at(pts, r) for r in (0.90, 0.95, 0.99)}
        fmt = lambda v: "n/a" if v is None else f"{v:,.0f}"
        p50 = value_at(pts, 0.95, "p50_us")
        ratio = speedup = build = mem = "n/a"
        if base:
            b95 = qps_at(base, 0.95)
            if b95 and at[0.95]:
                ratio = f"{at[0.95] / b95:.2f}"
            bp50 = value_at(base, 0.95, "p50_us")
            if bp50 and p50:
                speedup = f"{bp50 / p50:.2f}"
            build = f"{pts[0]['build_s'] / base[0]['build_s']:.2f}"
            mem = f"{pts[0]['index_mib'] / base[0]['rss_mib']:.2f}"
        print(f"| {key[0]} | {key[1]} | {pts[0]['build_s']:.1f} | {pts[0]['index_mib']:.1f} | "
              f"{pts[0]['rss_mib']:.1f} | {fmt(at[0.90])} | {fmt(at[0.95])} | {fmt(at[0.99])} | "
              f"{'n/a' if p50 is None else f'{p50:.1f}'} | {ratio} | {speedup} | {build} | {mem} |")


if __name__ == "__main__":
    main()
