#!/usr/bin/env python3
"""SQLite FTS5 lexical reference for bench/rag/run.sh.

Indexes a folder of documents the way shared/datasets/foldoc/README.md
describes its baseline (FTS5 bm25 defaults, title + body columns, NLTK stop
words removed, quoted OR query) and reports build time, per-question latency
and, with --questions, a run file for score.py.

  fts5_reference.py DOCS_DIR [--html] [--questions Q.jsonl --run-out RUN.jsonl]
                    [--tokenizer 'porter unicode61']
"""
import argparse
import html.parser
import json
import os
import re
import sqlite3
import statistics
import sys
import time
import urllib.parse

STOP = set("""i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did doing a an
the and but if or because as until while of at by for with about against between into through
during before after above below to from up down in out on off over under again further then once
here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now d ll m o re ve y could would might must
may shall also""".split())


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.skip, self.title = [], 0, ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self.skip:
            self.parts.append(data)


def load(path, is_html):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if is_html:
        p = _Text()
        p.feed(text)
        return p.title.strip(), " ".join(p.parts)
    head, _, body = text.partition("\n\n")
    return " ".join(head.split("\n")), body


def query_of(question):
    seen, terms = set(), []
    for tok in re.findall(r"\w+", question.lower()):
        if tok in STOP or tok in seen:
            continue
        seen.add(tok)
        terms.append('"%s"' % tok)
    return " OR ".join(terms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("docs")
    ap.add_argument("--html", action="store_true")
    ap.add_argument("--questions")
    ap.add_argument("--run-out")
    ap.add_argument("--tokenizer", default="unicode61")
    args = ap.parse_args()

    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.docs) for f in fs
                   if not args.html or f.endswith(".html"))
    t0 = time.perf_counter()
    rows, nbytes = [], 0
    for path in files:
        nbytes += os.path.getsize(path)
        title, body = load(path, args.html)
        doc_id = urllib.parse.unquote(os.path.splitext(os.path.basename(path))[0])
        rows.append((doc_id, title, body))
    t1 = time.perf_counter()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize=%r)"
               % args.tokenizer)
    db.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
    db.commit()
    t2 = time.perf_counter()
    print("fts5[%s]: %d docs, %.1f MB: load %.2f s + index %.2f s = %.2f s (%.0f docs/s, %.1f MB/s)"
          % (args.tokenizer, len(rows), nbytes / 2**20, t1 - t0, t2 - t1, t2 - t0,
             len(rows) / (t2 - t0), nbytes / 2**20 / (t2 - t0)))
    if not args.questions:
        return
    questions = [json.loads(l) for l in open(args.questions) if l.strip()]
    lat, out = [], []
    for q in questions:
        s = time.perf_counter()
        hits = db.execute("SELECT id, -bm25(docs) FROM docs WHERE docs MATCH ? "
                          "ORDER BY bm25(docs) LIMIT 10", (query_of(q["question"]),)).fetchall()
        lat.append((time.perf_counter() - s) * 1000)
        out.append({"id": q["id"], "ranked": [h[0] for h in hits],
                    "confidence": hits[0][1] if hits else 0.0})
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat) + 0.999) - 1)]
    print("fts5[%s]: query latency over %d questions: p50 %.2f ms, p99 %.2f ms"
          % (args.tokenizer, len(lat), statistics.median(lat), p99))
    if args.run_out:
        with open(args.run_out, "w") as f:
            for row in out:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.exit(main())
