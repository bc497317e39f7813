#include "rag/eval.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace ragkv::rag {
namespace {

TEST(EvalTest, MetricsMatchHandComputedValues) {
  // Relevant: a (grade 2), b (grade 1). Ranked: x a y b (a repeat of a is ignored).
  std::map<std::string, int> rel = {{"a", 2}, {"b", 1}};
  RankingMetrics m = ScoreQuestion({"x", "a", "a", "y", "b"}, rel, 10);
  EXPECT_DOUBLE_EQ(m.recall_at_1, 0.0);
  EXPECT_DOUBLE_EQ(m.recall_at_5, 1.0);
  EXPECT_DOUBLE_EQ(m.mrr, 0.5);
  // DCG = 2/log2(3) + 1/log2(5); IDCG = 2/log2(2) + 1/log2(3).
  double dcg = 2 / std::log2(3.0) + 1 / std::log2(5.0);
  double idcg = 2 + 1 / std::log2(3.0);
  EXPECT_NEAR(m.ndcg, dcg / idcg, 1e-12);
  // Cut-off k = 3 drops b.
  RankingMetrics m3 = ScoreQuestion({"x", "a", "y", "b"}, rel, 3);
  EXPECT_DOUBLE_EQ(m3.recall_at_k, 0.5);
  EXPECT_NEAR(m3.ndcg, (2 / std::log2(3.0)) / idcg, 1e-12);
  EXPECT_DOUBLE_EQ(ScoreQuestion({}, rel, 10).ndcg, 0.0);
}

TEST(EvalTest, AggregatesPerKindAndAbstention) {
  auto qs = ParseQuestions(
      R"({"id": "q1", "question": "a?", "relevant": {"a": 2}, "kind": "lexical"}
{"id": "q2", "question": "b?", "relevant": {"b": 2}, "kind": "paraphrase"}

{"id": "q3", "question": "c?", "relevant": {}, "kind": "unanswerable"}
)");
  ASSERT_TRUE(qs.ok()) << qs.status().ToString();
  ASSERT_EQ(qs->size(), 3u);
  std::vector<EvalRun> runs = {{{"a"}, false, 0.9}, {{"z", "b"}, true, 0.1}, {{"q"}, true, 0.05}};
  EvalReport r = Evaluate(*qs, runs, 10);
  EXPECT_EQ(r.answerable.n, 2u);
  EXPECT_DOUBLE_EQ(r.answerable.mrr, 0.75);
  EXPECT_DOUBLE_EQ(r.by_kind["lexical"].ndcg, 1.0);
  EXPECT_DOUBLE_EQ(r.by_kind["paraphrase"].recall_at_1, 0.0);
  EXPECT_EQ(r.unanswerable, 1u);
  EXPECT_EQ(r.unanswerable_abstained, 1u);
  EXPECT_EQ(r.answerable_abstained, 1u);
  std::string text = FormatReport(r);
  EXPECT_THAT(text, ::testing::HasSubstr("all answerable    2"));
  EXPECT_THAT(text, ::testing::HasSubstr("1/1 unanswerable declined, 1/2 answerable"));
}

// The pairwise definition, O(n m): the reference for ConfidenceAuc.
double PairwiseAuc(const std::vector<double>& pos, const std::vector<double>& neg) {
  double wins = 0;
  for (double p : pos) {
    for (double n : neg) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  }
  return wins / static_cast<double>(pos.size() * neg.size());
}

TEST(EvalTest, ConfidenceAucMatchesThePairwiseCount) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    // Few distinct values, so that ties within and across groups are common.
    std::uniform_int_distribution<int> size(1, 12), value(0, 6);
    std::vector<double> pos(size(rng)), neg(size(rng));
    for (double& x : pos) x = value(rng) / 4.0;
    for (double& x : neg) x = value(rng) / 4.0;
    EXPECT_NEAR(ConfidenceAuc(pos, neg), PairwiseAuc(pos, neg), 1e-12) << "trial " << trial;
  }
  EXPECT_DOUBLE_EQ(ConfidenceAuc({0.9, 0.8}, {0.1}), 1.0);
  EXPECT_DOUBLE_EQ(ConfidenceAuc({0.1}, {0.9, 0.8}), 0.0);
  EXPECT_DOUBLE_EQ(ConfidenceAuc({0.5}, {0.5}), 0.5);
  EXPECT_DOUBLE_EQ(ConfidenceAuc({}, {0.5}), -1);
  EXPECT_DOUBLE_EQ(ConfidenceAuc({0.5}, {}), -1);
}

TEST(EvalTest, ReportsHowConfidenceSeparatesTheGroups) {
  auto qs = ParseQuestions(
      R"({"id": "q1", "question": "a?", "relevant": {"a": 2}}
{"id": "q2", "question": "b?", "relevant": {"b": 2}}
{"id": "q3", "question": "c?", "relevant": {}}
{"id": "q4", "question": "d?", "relevant": {}}
)");
  ASSERT_TRUE(qs.ok());
  // Answerable 0.9 and 0.3; unanswerable 0.4 and 0.1: 3 of 4 pairs ordered.
  std::vector<EvalRun> runs = {{{"a"}, false, 0.9}, {{"b"}, false, 0.3}, {{}, true, 0.4},
                               {{}, true, 0.1}};
  EvalReport r = Evaluate(*qs, runs, 10);
  EXPECT_DOUBLE_EQ(r.confidence_auc, 0.75);
  EXPECT_DOUBLE_EQ(r.min_answerable_confidence, 0.3);
  EXPECT_DOUBLE_EQ(r.max_unanswerable_confidence, 0.4);
  EXPECT_THAT(FormatReport(r),
              ::testing::HasSubstr("AUC 0.750; answerable min 0.300, unanswerable max 0.400"));
  // Without unanswerable questions there is nothing to separate.
  EvalReport only_answerable = Evaluate({(*qs)[0]}, {runs[0]}, 10);
  EXPECT_DOUBLE_EQ(only_answerable.confidence_auc, -1);
  EXPECT_THAT(FormatReport(only_answerable), ::testing::Not(::testing::HasSubstr("AUC")));
}

TEST(EvalTest, MalformedLinesNameTheLine) {
  auto r = ParseQuestions("{\"id\":\"a\",\"question\":\"q\"}\nnot json\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("line 2"));
  EXPECT_FALSE(ParseQuestions("{\"id\":\"a\"}").ok());
  EXPECT_FALSE(ParseQuestions("{\"id\":\"a\",\"question\":\"q\",\"relevant\":[1]}").ok());
}

}  // namespace
}  // namespace ragkv::rag
