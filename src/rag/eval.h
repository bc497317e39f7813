// Retrieval evaluation against graded judgements (the FOLDOC dev-set format):
// recall@1/5/k, MRR@k and nDCG@k (gain = grade, discount 1/log2(rank + 1),
// normalised by the ideal ordering), per `kind` and overall, plus abstention
// accuracy on questions with no relevant documents and how well the
// retrieval confidence separates the two kinds (AUC). Definitions match
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
  // How well EvalRun::confidence separates the two groups, whatever the
  // threshold: ConfidenceAuc(answerable, unanswerable), and the interval a
  // single threshold has to fall in to get both groups right (it does not
  // exist when max_unanswerable >= min_answerable). All -1 when either group
  // is empty.
  double confidence_auc = -1;
  double min_answerable_confidence = -1;
  double max_unanswerable_confidence = -1;
};

// Parses JSON lines; kInvalidArgument naming the line on malformed input.
Result<std::vector<EvalQuestion>> ParseQuestions(std::string_view jsonl);

// Per-question metrics (exposed for tests). `ranked` may contain repeats.
RankingMetrics ScoreQuestion(const std::vector<std::string>& ranked,
                             const std::map<std::string, int>& relevant, size_t k);

// The probability that a random element of `positives` is larger than a
// random element of `negatives`, ties counting one half: the area under the
// ROC curve (Mann-Whitney U / (n * m)), as score.py reports it. -1 if either
// is empty. O((n + m) log(n + m)).
double ConfidenceAuc(std::vector<double> positives, std::vector<double> negatives);

// REQUIRES: runs.size() == questions.size().
EvalReport Evaluate(const std::vector<EvalQuestion>& questions, const std::vector<EvalRun>& runs,
                    size_t k);

std::string FormatReport(const EvalReport& report);

}  // namespace ragkv::rag
