"""Debian python3-redis search API against ragkv; every answer is checked
against a brute-force computation here. Usage: python3 search_compat.py <port>"""
import sys

import numpy as np
import redis
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.indexDefinition import IndexDefinition, IndexType
from redis.commands.search.query import Query

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port)
rng = np.random.default_rng(42)
DIM = 16
N = 300
COLORS = ["red", "green", "blue", "yellow"]
WORDS = ["apple", "banana", "cherry", "durian", "elder"]


def check_index(name, algorithm, metric):
    prefix = f"{name}:"
    r.ft(name).create_index(
        [
            VectorField("v", algorithm, {"TYPE": "FLOAT32", "DIM": DIM, "DISTANCE_METRIC": metric}),
            TagField("color"),
            NumericField("price"),
            TextField("body"),
        ],
        definition=IndexDefinition(prefix=[prefix], index_type=IndexType.HASH),
    )
    vecs = rng.standard_normal((N, DIM)).astype(np.float32)
    docs = []
    pipe = r.pipeline(transaction=False)
    for i in range(N):
        d = {"color": COLORS[i % 4], "price": float(i % 50), "body": f"{WORDS[i % 5]} pie number {i}"}
        docs.append(d)
        pipe.hset(f"{prefix}{i}", mapping={"v": vecs[i].tobytes(), **{k: str(v) for k, v in d.items()}})
    pipe.execute()
    # A wrong-size blob is not indexed.
    r.hset(f"{prefix}bad", mapping={"v": b"\x00" * 3, "color": "red"})
    info = r.ft(name).info()
    assert int(info["num_docs"]) == N, info["num_docs"]
    assert int(info["hash_indexing_failures"]) >= 1

    def distance(q, v):
        if metric == "L2":
            return float(np.sum((q - v) ** 2))
        if metric == "IP":
            return float(1 - np.dot(q, v))
        return float(1 - np.dot(q, v) / (np.linalg.norm(q) * np.linalg.norm(v)))

    for t in range(12):
        q = rng.standard_normal(DIM).astype(np.float32)
        k = 10
        color = COLORS[t % 4]
        lo = t * 3
        word = WORDS[t % 5]
        filters = [
            ("*", lambda d: True),
            (f"(@color:{{{color}}} @price:[{lo} +inf])",
             lambda d: d["color"] == color and d["price"] >= lo),
            (f"(@body:{word} -@color:{{{color}}})",
             lambda d: d["body"].startswith(word) and d["color"] != color),
        ]
        fq, pred = filters[t % 3]
        want = sorted((distance(q, vecs[i]), f"{prefix}{i}") for i in range(N) if pred(docs[i]))[:k]
        query = (Query(f"{fq}=>[KNN {k} @v $vec AS score]").sort_by("score")
                 .return_fields("score", "color").paging(0, k).dialect(2))
        res = r.ft(name).search(query, query_params={"vec": q.tobytes()})
        got = [d.id for d in res.docs]
        if algorithm == "FLAT":
            assert got == [w[1] for w in want], (fq, got, want)
        else:
            overlap = len(set(got) & {w[1] for w in want})
            assert overlap >= 0.9 * len(want), (fq, overlap, len(want))
        assert res.total == len(want)
        for d in res.docs:
            i = int(d.id.split(":")[1])
            assert pred(docs[i]), (fq, d.id)
            assert abs(float(d.score) - distance(q, vecs[i])) < 1e-3 * max(1, abs(float(d.score)))

    # Plain filter queries with NOCONTENT-style paging.
    res = r.ft(name).search(Query("@color:{red|blue} @price:[10 20]").no_content().paging(0, 1000))
    want = {f"{prefix}{i}" for i in range(N)
            if docs[i]["color"] in ("red", "blue") and 10 <= docs[i]["price"] <= 20}
    assert {d.id for d in res.docs} == want and res.total == len(want)


check_index("py_hnsw", "HNSW", "COSINE")
check_index("py_flat", "FLAT", "L2")
check_index("py_ip", "FLAT", "IP")
assert sorted(x.decode() for x in r.execute_command("FT._LIST")) == ["py_flat", "py_hnsw", "py_ip"]
r.ft("py_hnsw").dropindex(delete_documents=False)  # FT.DROPINDEX py_hnsw "" (redis-py 4.3.5+) or FT.DROP KEEPDOCS
assert r.exists("py_hnsw:0") == 1
r.ft("py_flat").dropindex(delete_documents=True)
assert r.exists("py_flat:0") == 0
r.ft("py_ip").dropindex(delete_documents=True)
try:
    r.ft("py_hnsw").info()
    raise AssertionError("dropped index still answers FT.INFO")
except redis.ResponseError as e:
    assert str(e) == "Unknown index name", str(e)
print("search_compat.py: OK")
