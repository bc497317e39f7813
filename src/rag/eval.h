// Retrieval evaluation against graded judgements (the FOLDOC dev-set format):
// recall@1/5/k, MRR@k and nDCG@k (gain = grade, discount 1/log2(rank + 1),
// normalised by the ideal ordering), per `kind` and overall, plus abstention
// accuracy on questions with no relevant documents. Definitions match
// shared/datasets/foldoc/score.py.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ragkv::rag {

struct EvalQuestion {
  std::string id;
  std::string question;
  std::string kind;                     // "paraphrase", "lexical", "unanswerable", ...
  std::map<std::string, int> relevant;  // doc id -> grade (1 or 2)
};

struct EvalRun {
  std::vector<std::string> ranked;  // doc ids, best first (repeats ignored)
  bool abstain = false;
  double confidence = 0;
};

struct RankingMetrics {
  size_t n = 0;
  double recall_at_1 = 0, recall_at_5 = 0, recall_at_k = 0, mrr = 0, ndcg = 0;
};

struct EvalReport {
  size_t k = 10;
  RankingMetrics answerable;  // every question with judgements
  std::map<std::string, RankingMetrics> by_kind;
  size_t unanswerable = 0, unanswerable_abstained = 0;
  size_t answerable_abstained = 0;
};

// Parses JSON lines; kInvalidArgument naming the line on malformed input.
Result<std::vector<EvalQuestion>> ParseQuestions(std::string_view jsonl);

// Per-question metrics (exposed for tests). `ranked` may contain repeats.
RankingMetrics ScoreQuestion(const std::vector<std::string>& ranked,
                             const std::map<std::string, int>& relevant, size_t k);

// REQUIRES: runs.size() == questions.size().
EvalReport Evaluate(const std::vector<EvalQuestion>& questions, const std::vector<EvalRun>& runs,
                    size_t k);

std::string FormatReport(const EvalReport& report);

}  // namespace ragkv::rag
