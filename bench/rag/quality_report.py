#!/usr/bin/env python3
"""Per-set quality table for bench/rag/quality.sh.

  quality_report.py FOLDOC_DIR DEV.jsonl DEV_RUN.jsonl [QUESTIONS.jsonl RUN.jsonl]...

Scores with the dataset's own score.py (imported from FOLDOC_DIR). Half A is
the odd-numbered lines of DEV.jsonl (1st, 3rd, ...), half B the even ones.
"""
import os
import sys


def main():
    foldoc, dev, dev_run = sys.argv[1:4]
    sys.path.insert(0, foldoc)
    import score  # noqa: E402  (the dataset's scorer)

    dev_q = score.load_questions(dev)
    dev_r = score.load_run(dev_run)
    sets = [("dev half A (tuning)", dev_q[0::2], dev_r),
            ("dev half B (held out)", dev_q[1::2], dev_r),
            ("dev, all 40", dev_q, dev_r)]
    extra = sys.argv[4:]
    for questions, run in zip(extra[0::2], extra[1::2]):
        name = os.path.splitext(os.path.basename(questions))[0]
        sets.append((name + " (held out)", score.load_questions(questions), score.load_run(run)))
    print("| set | nDCG@10 | MRR@10 | R@10 | unanswerable declined | answerable answered |")
    print("|---|---|---|---|---|---|")
    for name, questions, run in sets:
        res = score.evaluate(questions, run)
        agg = res["aggregate"]["answerable"]
        rows = res["per_question"]
        un = [r for r in rows if r["kind"] == "unanswerable"]
        an = [r for r in rows if r["kind"] != "unanswerable"]
        declined = sum(r["abstain"] for r in un)
        answered = sum(not r["abstain"] for r in an)
        print(f"| {name} | {agg['nDCG@10']:.3f} | {agg['MRR@10']:.3f} | {agg['recall@10']:.3f} "
              f"| {declined}/{len(un)} | {answered}/{len(an)} ({100 * answered / len(an):.0f}%) |")


if __name__ == "__main__":
    main()
