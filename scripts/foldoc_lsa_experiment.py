#!/usr/bin/python3
"""Would a corpus-fitted LSA projection help the builtin embedder on FOLDOC?

A prototype, not shipped code: it measures before anyone writes the C++.
Builds the IDF-weighted, sublinear-tf, L2-normalised entry x term matrix of
FOLDOC (terms with df >= 2, a crude suffix stripper instead of Snowball),
takes a rank-k truncated SVD by randomized subspace iteration (seed 1, k + 10
columns, 2 power iterations), ranks entries by cosine in the k-dim space, and
fuses that list by RRF (weight w, k = 60) onto the ranked lists of a
`ragkv eval --run-out` run (the shipped hybrid). Prints nDCG@10 on dev half A
(odd lines: where a setting may be chosen), half B (even lines: held out)
and all 40.

    python3 foldoc_to_files.py /tmp/foldoc && ragkv ingest /tmp/foldoc --data D
    ragkv eval dev_questions.jsonl --data D --run-out run.jsonl
    /usr/bin/python3 scripts/foldoc_lsa_experiment.py run.jsonl 256

Needs numpy and the dataset folder (RAGKV_FOLDOC, default
/work/shared/datasets/foldoc).
"""
import json
import math
import os
import re
import sys
import time

import numpy as np

FOLDOC = os.environ.get("RAGKV_FOLDOC", "/work/shared/datasets/foldoc")
sys.path.insert(0, FOLDOC)
from foldoc_to_files import load_corpus  # noqa: E402
from score import load_questions, ndcg_at  # noqa: E402

STOP = set("a an and are as at be but by for if in into is it no not of on or such that the "
           "their then there these they this to was will with what how why which who when "
           "where does do can i my you your its from than so".split())
SUFFIXES = ("ational", "ization", "ations", "ation", "ings", "ing", "ies", "ied", "es", "ed",
            "s", "ly")


def stem(w):
    for suf in SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[:-len(suf)]
    return w


def tokens(text):
    return [stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())
            if w not in STOP and len(w) > 1]


def term_matrix(docs):
    counts, df = [], {}
    for d in docs:
        c = {}
        for w in tokens(d.text):
            c[w] = c.get(w, 0) + 1
        counts.append(c)
        for w in c:
            df[w] = df.get(w, 0) + 1
    n = len(docs)
    terms = [w for w, k in df.items() if k >= 2]
    vocab = {w: i for i, w in enumerate(terms)}
    idf = np.array([math.log(n / df[w]) for w in terms])
    x = np.zeros((n, len(terms)), dtype=np.float32)
    for i, c in enumerate(counts):
        for w, k in c.items():
            j = vocab.get(w)
            if j is not None:
                x[i, j] = (1 + math.log(k)) * idf[j]
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1
    return x / norms[:, None], vocab, idf


def randomized_svd(x, k, power_iterations=2, seed=1):
    rng = np.random.default_rng(seed)
    q = x.T @ (x @ rng.standard_normal((x.shape[1], k + 10)).astype(np.float32))
    q, _ = np.linalg.qr(q)
    for _ in range(power_iterations):
        q, _ = np.linalg.qr(x.T @ (x @ q))
    _, _, vt = np.linalg.svd(x @ q, full_matrices=False)
    return (q @ vt.T)[:, :k]


def main():
    run_path, ks = sys.argv[1], [int(k) for k in sys.argv[2].split(",")]
    docs = load_corpus()
    ids = [d.id for d in docs]
    questions = load_questions(os.path.join(FOLDOC, "dev_questions.jsonl"))
    run = {}
    with open(run_path) as f:
        for line in f:
            o = json.loads(line)
            run[o["id"]] = o["ranked"]
    x, vocab, idf = term_matrix(docs)

    def evaluate(rank):
        halves = {0: [], 1: []}
        for i, q in enumerate(questions):
            if q["relevant"]:
                halves[i % 2].append(ndcg_at(rank(q), q["relevant"], 10))
        return np.mean(halves[0]), np.mean(halves[1]), np.mean(halves[0] + halves[1])

    print("run as given        A %.3f  B %.3f  all %.3f" % evaluate(lambda q: run[q["id"]]))
    for k in ks:
        start = time.time()
        v = randomized_svd(x, k)
        d = x @ v
        d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-12
        seconds = time.time() - start
        lsa = {}
        for q in questions:
            qv = np.zeros(len(vocab))
            for w in set(tokens(q["question"])):
                if w in vocab:
                    j = vocab[w]
                    qv[j] = (1 + math.log(tokens(q["question"]).count(w))) * idf[j]
            z = qv @ v
            z /= np.linalg.norm(z) + 1e-12
            lsa[q["id"]] = [ids[i] for i in np.argsort(-(d @ z))[:50]]
        print("k=%d (SVD %.0f s)   LSA alone A %.3f  B %.3f  all %.3f"
              % ((k, seconds) + evaluate(lambda q: lsa[q["id"]])))
        for w in (0.05, 0.1, 0.2, 0.3, 0.5, 1.0):
            def fused(q):
                s = {}
                for r, doc in enumerate(run[q["id"]]):
                    s[doc] = s.get(doc, 0) + 1 / (61 + r)
                for r, doc in enumerate(lsa[q["id"]]):
                    s[doc] = s.get(doc, 0) + w / (61 + r)
                return sorted(s, key=lambda doc: -s[doc])
            print("  + LSA at w=%.2f    A %.3f  B %.3f  all %.3f" % ((w,) + evaluate(fused)))


if __name__ == "__main__":
    main()
