// Self-calibrated abstention: the threshold choice against a brute-force
// twin, the collection-state envelope, leave-out retrieval, and the whole
// procedure on a synthetic collection whose unanswerable questions are pairs
// of known words that no document has together.
#include "rag/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "rag/ingest.h"
#include "rag/retriever.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

// Every threshold that makes a different decision: 0, each midpoint between
// neighbouring distinct confidences, and one above all of them.
AbstentionCalibration BruteForceThreshold(const std::vector<CalibrationExample>& examples,
                                          double min_answered) {
  std::set<double> values;
  for (const auto& e : examples) values.insert(e.confidence);
  std::vector<double> sorted(values.begin(), values.end());
  std::vector<double> thresholds = {0};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    thresholds.push_back((sorted[i] + sorted[i + 1]) / 2);
  }
  thresholds.push_back(sorted.back() + 1e-9);
  AbstentionCalibration best;
  double best_score = -1;
  for (double t : thresholds) {
    double a = 0, a_ok = 0, u = 0, u_ok = 0;
    for (const auto& e : examples) {
      if (e.answerable) {
        ++a;
        a_ok += e.confidence >= t;
      } else {
        ++u;
        u_ok += e.confidence < t;
      }
    }
    const double answered = a_ok / a, declined = u_ok / u;
    if (answered + 1e-12 < min_answered) continue;
    if ((answered + declined) / 2 > best_score + 1e-12) {
      best_score = (answered + declined) / 2;
      best.threshold = t;
      best.answered = answered;
      best.declined = declined;
    }
  }
  return best;
}

TEST(ChooseThresholdTest, MatchesBruteForceOnSeededRandomExamples) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::vector<CalibrationExample> examples;
    const int n = 2 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      CalibrationExample e;
      e.answerable = i == 0 || (i != 1 && rng() % 2 == 0);  // both kinds present
      // Coarse values so that ties occur; answerable ones skew higher.
      const double base = static_cast<double>(rng() % 21) / 20;
      e.confidence = e.answerable ? std::min(1.0, base + 0.2) : base;
      examples.push_back(e);
    }
    const double min_answered = std::vector<double>{0.5, 0.9, 0.95, 1.0}[round % 4];
    AbstentionCalibration got = ChooseThreshold(examples, min_answered);
    AbstentionCalibration want = BruteForceThreshold(examples, min_answered);
    ASSERT_DOUBLE_EQ(got.threshold, want.threshold) << "round " << round;
    EXPECT_DOUBLE_EQ(got.answered, want.answered);
    EXPECT_DOUBLE_EQ(got.declined, want.declined);
    EXPECT_GE(got.answered + 1e-12, min_answered);
  }
}

TEST(ChooseThresholdTest, SeparatesSeparableExamplesInTheMiddleOfTheGap) {
  std::vector<CalibrationExample> examples = {
      {"a", 0.9, true}, {"b", 0.7, true}, {"c", 0.3, false}, {"d", 0.1, false}};
  AbstentionCalibration c = ChooseThreshold(examples, 0.95);
  EXPECT_DOUBLE_EQ(c.threshold, 0.5);
  EXPECT_EQ(c.answered, 1.0);
  EXPECT_EQ(c.declined, 1.0);
  EXPECT_EQ(c.answerable, 2u);
  EXPECT_EQ(c.unanswerable, 2u);
}

TEST(ChooseThresholdTest, WithoutBothKindsFallsBackToTheFixedThreshold) {
  EXPECT_EQ(ChooseThreshold({{"a", 0.9, true}}, 0.95).threshold, kFallbackThreshold);
  EXPECT_EQ(ChooseThreshold({{"u", 0.2, false}}, 0.95).threshold, kFallbackThreshold);
  EXPECT_EQ(ChooseThreshold({}, 0.95).threshold, kFallbackThreshold);
}

TEST(CollectionStateTest, RoundTripsWithAndWithoutCalibration) {
  CollectionState state{std::string("RKDF\0\x01 bytes", 12), std::nullopt};
  auto plain = DecodeCollectionState(EncodeCollectionState(state));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->embedder_state, state.embedder_state);
  EXPECT_FALSE(plain->calibration.has_value());

  state.calibration = AbstentionCalibration{0.171, 400, 202, 198, 0.98, 0.07, 42};
  const std::string blob = EncodeCollectionState(state);
  auto full = DecodeCollectionState(blob);
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(full->calibration.has_value());
  EXPECT_EQ(full->calibration->threshold, 0.171);
  EXPECT_EQ(full->calibration->answerable, 400u);
  EXPECT_EQ(full->calibration->unanswerable, 202u);
  EXPECT_EQ(full->calibration->caught_by_unknown, 198u);
  EXPECT_EQ(full->calibration->answered, 0.98);
  EXPECT_EQ(full->calibration->declined, 0.07);
  EXPECT_EQ(full->calibration->seed, 42u);

  // Truncated at every offset past the magic, or with a byte too many.
  for (size_t n = 4; n < blob.size(); ++n) {
    EXPECT_EQ(DecodeCollectionState(blob.substr(0, n)).status().code(), StatusCode::kCorruption)
        << n;
  }
  EXPECT_EQ(DecodeCollectionState(blob + "x").status().code(), StatusCode::kCorruption);
}

TEST(CollectionStateTest, ABlobFromBeforeCalibrationIsABareEmbedderState) {
  for (std::string old : {std::string(), std::string("RKDF....."), std::string("df")}) {
    auto s = DecodeCollectionState(old);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->embedder_state, old);
    EXPECT_FALSE(s->calibration.has_value());
  }
}

// 12 rare words; every file is titled with a pair of them, except the pairs
// whose indexes sum to a multiple of 5: those pairs are known words that no
// document has together, the unanswerable questions. Bodies are common words.
class SyntheticCollectionTest : public ::testing::Test {
 protected:
  static constexpr const char* kRare[] = {"zorvak", "quilmet", "brastif", "yelnox",
                                          "tavrun", "plexor",  "mondrik", "sulvane",
                                          "cravit", "dobrell", "frinwal", "hestom"};
  static constexpr const char* kCommon[] = {"river",  "stone",  "cloud",  "paper",  "green",
                                            "table",  "light",  "music",  "garden", "window",
                                            "silver", "market", "bridge", "forest"};

  void SetUp() override {
    std::mt19937_64 rng(3);
    for (int a = 0; a < 12; ++a) {
      for (int b = a + 1; b < 12; ++b) {
        if ((a + b) % 5 == 0) continue;
        std::string text = std::string(kRare[a]) + " " + kRare[b] + "\n\n";
        for (int w = 0; w < 40; ++w) text += std::string(kCommon[rng() % 14]) + " ";
        text += ".\n";
        docs_.Write("doc" + std::to_string(a) + "_" + std::to_string(b) + ".txt", text);
      }
    }
    store_ = OpenEmbeddedStore(data_.path(), "c").value();
    embedder_ = NewBuiltinEmbedder(256);
  }

  Result<IngestSummary> IngestAll(const IngestOptions& options = {}) {
    return Ingest({docs_.path()}, store_.get(), embedder_.get(), options);
  }

  testing::TempDir docs_, data_;
  std::unique_ptr<ChunkStore> store_;
  std::unique_ptr<Embedder> embedder_;
};

TEST_F(SyntheticCollectionTest, IngestCalibratesAThresholdThatSeparatesAKnownPairFromAnUnseenOne) {
  auto summary = IngestAll();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_TRUE(summary->calibration.has_value());
  const AbstentionCalibration& c = *summary->calibration;
  EXPECT_GT(c.answerable, 0u);
  EXPECT_GT(c.unanswerable, 0u);  // pairs of words that occur elsewhere, apart
  EXPECT_GE(c.answered, 0.97);

  auto retriever = Retriever::Create(store_.get(), embedder_.get());
  ASSERT_TRUE(retriever.ok());
  EXPECT_TRUE(retriever->calibrated());
  EXPECT_EQ(retriever->threshold(), c.threshold);

  // "zorvak quilmet" (0 + 1) is a title; "brastif yelnox" (2 + 3) is not,
  // though each word is the title of several documents.
  auto answerable = retriever->Retrieve("zorvak quilmet by the river", 5);
  auto unanswerable = retriever->Retrieve("brastif yelnox by the river", 5);
  ASSERT_TRUE(answerable.ok() && unanswerable.ok());
  EXPECT_TRUE(unanswerable->unknown_terms.empty());
  EXPECT_LT(unanswerable->confidence, c.threshold);
  EXPECT_TRUE(unanswerable->abstain);
  EXPECT_GE(answerable->confidence, c.threshold);
  EXPECT_FALSE(answerable->abstain);
}

TEST_F(SyntheticCollectionTest, CalibrationIsDeterministicForASeedAndStoredWithTheCollection) {
  ASSERT_TRUE(IngestAll().ok());
  std::vector<CalibrationExample> first, second;
  auto a = CalibrateAbstention(store_.get(), embedder_.get(), {}, {}, &first);
  auto b = CalibrateAbstention(store_.get(), embedder_.get(), {}, {}, &second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->threshold, b->threshold);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].query, second[i].query);
    EXPECT_EQ(first[i].confidence, second[i].confidence);
  }
  // An unchanged re-ingest keeps the stored calibration; a reopen reads it.
  auto again = IngestAll();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->calibration.has_value());
  store_.reset();
  store_ = OpenEmbeddedStore(data_.path(), "c").value();
  auto retriever = Retriever::Create(store_.get(), embedder_.get());
  ASSERT_TRUE(retriever.ok());
  EXPECT_TRUE(retriever->calibrated());
  EXPECT_EQ(retriever->threshold(), a->threshold);
  // A threshold given by the caller wins.
  auto fixed =
      Retriever::Create(store_.get(), embedder_.get(), RetrievalOptions{.abstain_threshold = 0.5});
  ASSERT_TRUE(fixed.ok());
  EXPECT_FALSE(fixed->calibrated());
  EXPECT_EQ(fixed->threshold(), 0.5);
}

TEST_F(SyntheticCollectionTest, WithoutCalibrationTheFixedThresholdApplies) {
  IngestOptions options;
  options.calibrate = false;
  auto summary = IngestAll(options);
  ASSERT_TRUE(summary.ok());
  EXPECT_FALSE(summary->calibration.has_value());
  auto retriever = Retriever::Create(store_.get(), embedder_.get());
  ASSERT_TRUE(retriever.ok());
  EXPECT_FALSE(retriever->calibrated());
  EXPECT_EQ(retriever->threshold(), kFallbackThreshold);
}

TEST_F(SyntheticCollectionTest, RetrieveWithoutNeverReturnsALeftOutChunk) {
  ASSERT_TRUE(IngestAll().ok());
  auto retriever = Retriever::Create(store_.get(), embedder_.get());
  ASSERT_TRUE(retriever.ok());
  auto all = retriever->Retrieve("zorvak quilmet river", 10);
  ASSERT_TRUE(all.ok());
  ASSERT_GE(all->hits.size(), 3u);
  auto same = retriever->RetrieveWithout("zorvak quilmet river", 10, {});
  ASSERT_TRUE(same.ok());
  ASSERT_EQ(same->hits.size(), all->hits.size());
  for (size_t i = 0; i < all->hits.size(); ++i) {
    EXPECT_EQ(same->hits[i].chunk.id, all->hits[i].chunk.id);
  }
  const std::unordered_set<uint64_t> excluded = {all->hits[0].chunk.id, all->hits[2].chunk.id};
  auto rest = retriever->RetrieveWithout("zorvak quilmet river", 10, excluded);
  ASSERT_TRUE(rest.ok());
  ASSERT_FALSE(rest->hits.empty());
  for (const auto& h : rest->hits) EXPECT_EQ(excluded.count(h.chunk.id), 0u);
  EXPECT_EQ(rest->hits[0].chunk.id, all->hits[1].chunk.id);  // the next best moves up
}

}  // namespace
}  // namespace ragkv::rag
