#!/usr/bin/env python3
"""Per-set quality table for bench/rag/quality.sh.

  quality_report.py FOLDOC_DIR DEV.jsonl DEV_RUN.jsonl HELDOUT.jsonl HELDOUT_RUN.jsonl

Scores with the dataset's own score.py (imported from FOLDOC_DIR). Half A is
the odd-numbered lines of DEV.jsonl (1st, 3rd, ...), half B the even ones.
"""
import sys


def main():
    foldoc, dev, dev_run, heldout, heldout_run = sys.argv[1:6]
    sys.path.insert(0, foldoc)
    import score  # noqa: E402  (the dataset's scorer)

    dev_q = score.load_questions(dev)
    held_q = score.load_questions(heldout)
    dev_r = score.load_run(dev_run)
    held_r = score.load_run(heldout_run)
    sets = [("dev half A (tuning)", dev_q[0::2], dev_r),
            ("dev half B (held out)", dev_q[1::2], dev_r),
            ("dev, all 40", dev_q, dev_r),
            ("foldoc_heldout (held out)", held_q, held_r)]
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
