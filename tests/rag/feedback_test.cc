// RM3 pseudo-relevance feedback: the relevance model against a brute-force
// computation, the BM25 term formula, and the expanded BM25 list in the
// retriever on a corpus made here.
#include "rag/feedback.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "rag/ingest.h"
#include "rag/retriever.h"
#include "rag/store_io.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

// P(w|R) = sum_d P(d) * count(w, d) / |d| with P(d) = score_d / sum of
// scores, over every word, by counting; then the top n renormalised.
std::vector<WeightedTerm> BruteForceModel(const std::vector<FeedbackDoc>& docs, size_t n) {
  std::set<std::string> vocabulary;
  double total = 0;
  for (const auto& d : docs) {
    if (d.terms.empty() || d.score <= 0) continue;
    total += d.score;
    vocabulary.insert(d.terms.begin(), d.terms.end());
  }
  std::vector<WeightedTerm> all;
  for (const std::string& w : vocabulary) {
    double p = 0;
    for (const auto& d : docs) {
      if (d.terms.empty() || d.score <= 0) continue;
      const double count = static_cast<double>(std::count(d.terms.begin(), d.terms.end(), w));
      p += d.score / total * count / static_cast<double>(d.terms.size());
    }
    all.push_back({w, p});
  }
  std::sort(all.begin(), all.end(), [](const WeightedTerm& a, const WeightedTerm& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.term < b.term;
  });
  if (all.size() > n) all.resize(n);
  double sum = 0;
  for (const auto& t : all) sum += t.weight;
  for (auto& t : all) t.weight /= sum;
  return all;
}

TEST(RelevanceModelTest, MatchesBruteForceOnSeededRandomFeedback) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::vector<FeedbackDoc> docs(1 + rng() % 6);
    for (auto& d : docs) {
      const size_t len = rng() % 30;  // some documents are empty
      for (size_t i = 0; i < len; ++i) {
        std::string term = "w";
        term += std::to_string(rng() % 15);
        d.terms.push_back(std::move(term));
      }
      d.score = static_cast<double>(rng() % 100) / 10;  // some scores are 0
    }
    const size_t n = 1 + rng() % 12;
    std::vector<WeightedTerm> got = RelevanceModel(docs, n);
    std::vector<WeightedTerm> want = BruteForceModel(docs, n);
    ASSERT_EQ(got.size(), want.size()) << "round " << round;
    double sum = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i].weight, want[i].weight, 1e-12) << "round " << round << " term " << i;
      // Equal weights may differ in the last bit between the two sums, so
      // compare the term only where the weight is clearly its own.
      auto same = [&](size_t j) { return std::abs(want[j].weight - want[i].weight) < 1e-12; };
      const bool tied = (i > 0 && same(i - 1)) || (i + 1 < want.size() && same(i + 1));
      if (!tied) {
        EXPECT_EQ(got[i].term, want[i].term) << "round " << round;
      }
      sum += got[i].weight;
    }
    if (!got.empty()) {
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
  }
}

TEST(RelevanceModelTest, NoUsableFeedbackGivesNoTerms) {
  EXPECT_TRUE(RelevanceModel({}, 10).empty());
  EXPECT_TRUE(RelevanceModel({{{"a", "b"}, 0}}, 10).empty());
  EXPECT_TRUE(RelevanceModel({{{}, 3}}, 10).empty());
  EXPECT_TRUE(RelevanceModel({{{"a"}, 1}}, 0).empty());
}

TEST(Bm25TermTest, FollowsTheFormula) {
  // idf 2, tf 3, a document of average length: 2 * 3 * 2.2 / (3 + 1.2).
  EXPECT_NEAR(Bm25Term(2, 3, 100, 100), 2 * 3 * 2.2 / 4.2, 1e-12);
  // Twice the average length: the denominator grows by k1 * b.
  EXPECT_NEAR(Bm25Term(2, 3, 200, 100), 2 * 3 * 2.2 / (3 + 1.2 * 1.75), 1e-12);
  EXPECT_EQ(Bm25Term(2, 0, 100, 100), 0);
}

class FeedbackRetrievalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // "zorvak" is only in the first two; the third shares their other words.
    docs_.Write("a.txt", "Alpha\n\nzorvak quilmet brastif yelnox river.\n");
    docs_.Write("b.txt", "Beta\n\nzorvak quilmet brastif yelnox stone.\n");
    docs_.Write("c.txt", "Gamma\n\nquilmet brastif yelnox cloud.\n");
    for (char c = 'a'; c < 'm'; ++c) {
      docs_.Write(std::string("f") + c + ".txt",
                  std::string("Filler ") + c + "\n\ngarden window market bridge.\n");
    }
    store_ = OpenEmbeddedStore(data_.path(), "c").value();
    embedder_ = NewBuiltinEmbedder(256);
    ASSERT_TRUE(Ingest({docs_.path()}, store_.get(), embedder_.get(), {}).ok());
  }

  std::vector<std::string> Ranked(const RetrievalOptions& options, std::string_view query) {
    auto retriever = Retriever::Create(store_.get(), embedder_.get(), options);
    EXPECT_TRUE(retriever.ok());
    auto r = retriever->Retrieve(query, 10);
    EXPECT_TRUE(r.ok());
    std::vector<std::string> out;
    for (const auto& h : r->hits) out.push_back(DocIdFromSource(h.chunk.source));
    return out;
  }

  testing::TempDir docs_, data_;
  std::unique_ptr<ChunkStore> store_;
  std::unique_ptr<Embedder> embedder_;
};

TEST_F(FeedbackRetrievalTest, ExpansionBringsInAChunkThatSharesOnlyTheFeedbackTerms) {
  RetrievalOptions plain{.vector_weight = 0};
  std::vector<std::string> before = Ranked(plain, "zorvak");
  EXPECT_EQ(std::count(before.begin(), before.end(), "c"), 0);
  RetrievalOptions rm3{.vector_weight = 0, .rm3_docs = 2, .rm3_terms = 5, .rm3_weight = 0.5};
  std::vector<std::string> after = Ranked(rm3, "zorvak");
  ASSERT_GE(after.size(), 3u);
  EXPECT_EQ(std::set<std::string>(after.begin(), after.begin() + 2),
            (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(after[2], "c");
}

TEST_F(FeedbackRetrievalTest, WithFeedbackWeightZeroTheBm25OrderIsKept) {
  RetrievalOptions plain{.vector_weight = 0};
  RetrievalOptions rm3{.vector_weight = 0, .rm3_docs = 3, .rm3_terms = 10, .rm3_weight = 0};
  std::vector<std::string> before = Ranked(plain, "quilmet river");
  std::vector<std::string> after = Ranked(rm3, "quilmet river");
  ASSERT_GE(after.size(), before.size());
  after.resize(before.size());  // the expansion's own list may add chunks after them
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace ragkv::rag
