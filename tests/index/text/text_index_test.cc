// TextIndex against a naive BM25F scorer that recomputes every statistic from
// the raw documents on each query.
#include "index/text/text_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

namespace ragkv::text {
namespace {

// Brute-force twin: documents as token lists per field, scored from scratch.
struct NaiveBm25 {
  TextIndexOptions options;
  std::map<uint64_t, std::vector<std::vector<std::string>>> docs;

  std::vector<TextHit> Search(const std::vector<std::string>& query, size_t k) const {
    double n = static_cast<double>(docs.size());
    double total = 0;
    std::map<uint64_t, double> lengths;
    for (const auto& [id, fields] : docs) {
      double len = 0;
      for (size_t f = 0; f < fields.size(); ++f) {
        len += options.fields[f].weight * fields[f].size();
      }
      lengths[id] = len;
      total += len;
    }
    double avg = total / n;
    std::set<std::string> terms(query.begin(), query.end());
    std::vector<TextHit> hits;
    for (const auto& [id, fields] : docs) {
      double score = 0;
      bool matched = false;
      for (const std::string& t : terms) {
        double tf = 0;
        for (size_t f = 0; f < fields.size(); ++f) {
          tf += options.fields[f].weight * std::count(fields[f].begin(), fields[f].end(), t);
        }
        if (tf == 0) continue;
        matched = true;
        double df = 0;
        for (const auto& [other, ofields] : docs) {
          bool has = false;
          for (const auto& fv : ofields) {
            has = has || std::find(fv.begin(), fv.end(), t) != fv.end();
          }
          df += has;
        }
        double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
        double k1 = options.bm25.k1, b = options.bm25.b;
        score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[id] / avg));
      }
      if (matched) hits.push_back({id, static_cast<float>(score)});
    }
    std::sort(hits.begin(), hits.end(), [](const TextHit& a, const TextHit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    if (hits.size() > k) hits.resize(k);
    return hits;
  }
};

std::string Join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) {
    s.append(w);
    s.push_back(' ');
  }
  return s;
}

void ExpectSameRanking(const std::vector<TextHit>& got, const std::vector<TextHit>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    // Scores may differ in the last float bits, so near-ties can swap order;
    // compare scores by rank and ids only where the scores are clearly apart.
    EXPECT_NEAR(got[i].score, want[i].score, 1e-3 * std::max(1.0f, want[i].score)) << "rank " << i;
    bool tied = (i > 0 && std::fabs(want[i].score - want[i - 1].score) < 1e-3) ||
                (i + 1 < want.size() && std::fabs(want[i].score - want[i + 1].score) < 1e-3);
    if (!tied) {
      EXPECT_EQ(got[i].id, want[i].id) << "rank " << i;
    }
  }
}

TEST(TextIndexTest, MatchesNaiveScorerUnderRandomAddRemoveReplace) {
  TextIndexOptions options;
  options.fields = {{"title", 3.0f}, {"body", 1.0f}};
  options.tokenizer = {.stem = false, .drop_stop_words = false};
  auto index = TextIndex::Create(options).value();
  // Fed the same documents pre-tokenised (AddTerms): must score bit for bit
  // like the index that tokenised the texts itself.
  auto pretokenised = TextIndex::Create(options).value();
  NaiveBm25 naive{options, {}};
  std::mt19937_64 rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 60; ++i)
    vocab.push_back(std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i));
  // Zipf-like: low word numbers are common.
  auto word = [&] {
    std::uniform_real_distribution<double> u(0, 1);
    return vocab[static_cast<size_t>(std::pow(u(rng), 2.5) * vocab.size())];
  };
  for (int step = 0; step < 1500; ++step) {
    uint64_t id = rng() % 300;
    if (rng() % 4 == 0) {
      const bool removed = index->Remove(id);
      EXPECT_EQ(pretokenised->Remove(id), removed);
      EXPECT_EQ(removed, naive.docs.erase(id) > 0);
    } else {
      std::vector<std::vector<std::string>> fields(2);
      for (size_t n = rng() % 4; n > 0; --n) fields[0].push_back(word());
      for (size_t n = rng() % 30; n > 0; --n) fields[1].push_back(word());
      std::string t0 = Join(fields[0]), t1 = Join(fields[1]);
      ASSERT_TRUE(index->Add(id, {t0, t1}).ok());
      ASSERT_TRUE(pretokenised->AddTerms(id, fields).ok());
      naive.docs[id] = fields;
    }
    ASSERT_EQ(index->size(), naive.docs.size());
    if (step % 50 == 0 && !naive.docs.empty()) {
      std::vector<std::string> query = {word(), word(), word()};
      ExpectSameRanking(index->SearchTerms(query, 10), naive.Search(query, 10));
      // ScoreDocument (from the forward index) gives exactly the score the
      // postings scan gives, agrees with the naive scorer, and is 0 for a
      // document that is absent.
      for (const TextHit& h : index->SearchTerms(query, 10)) {
        EXPECT_FLOAT_EQ(index->ScoreDocument(h.id, query), h.score);
      }
      for (const TextHit& h : naive.Search(query, 10)) {
        EXPECT_NEAR(index->ScoreDocument(h.id, query), h.score, 1e-3 * std::max(1.0f, h.score));
      }
      EXPECT_EQ(index->ScoreDocument(1000, query), 0.0f);
      // The batch form equals the single-document form exactly, absent ids
      // included, and the pre-tokenised twin agrees bit for bit.
      std::vector<uint64_t> ids = {1000};
      for (const auto& [doc_id, fields] : naive.docs) ids.push_back(doc_id);
      std::vector<float> batch, twin;
      index->ScoreDocuments(ids, query, &batch);
      pretokenised->ScoreDocuments(ids, query, &twin);
      ASSERT_EQ(batch.size(), ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(batch[i], index->ScoreDocument(ids[i], query)) << "id " << ids[i];
        EXPECT_EQ(twin[i], batch[i]) << "id " << ids[i];
      }
      // Few candidates take the per-document path, many the postings walk;
      // both give the same bits.
      std::vector<uint64_t> few(ids.begin(), ids.begin() + std::min<size_t>(ids.size(), 2));
      std::vector<float> few_scores;
      index->ScoreDocuments(few, query, &few_scores);
      for (size_t i = 0; i < few.size(); ++i) EXPECT_EQ(few_scores[i], batch[i]);
    }
  }
}

TEST(TextIndexTest, FilterRestrictsCandidates) {
  auto index = TextIndex::Create({}).value();
  for (uint64_t id = 0; id < 20; ++id) ASSERT_TRUE(index->Add(id, {"apple banana"}).ok());
  auto hits = index->Search("apple", 100, [](uint64_t id) { return id % 2 == 1; });
  ASSERT_EQ(hits.size(), 10u);
  for (const TextHit& h : hits) EXPECT_EQ(h.id % 2, 1u);
}

TEST(TextIndexTest, QueryTermWeightsScaleContributions) {
  auto index = TextIndex::Create({}).value();
  ASSERT_TRUE(index->Add(1, {"alpha beta"}).ok());
  ASSERT_TRUE(index->Add(2, {"gamma"}).ok());
  ASSERT_TRUE(index->Add(3, {"delta"}).ok());
  float alpha = index->SearchTerms({"alpha"}, 1)[0].score;
  float beta = index->SearchTerms({"beta"}, 1)[0].score;
  auto weighted = index->SearchWeighted({{"alpha", 2.0f}, {"beta", 0.5f}, {"alpha", 9.0f}}, 1);
  ASSERT_EQ(weighted.size(), 1u);
  EXPECT_FLOAT_EQ(weighted[0].score, 2 * alpha + 0.5f * beta);  // a repeat keeps its first weight
}

TEST(TextIndexTest, SerializeRoundTripScoresIdentically) {
  TextIndexOptions options;
  options.fields = {{"title", 2.0f}, {"body", 1.0f}};
  auto index = TextIndex::Create(options).value();
  ASSERT_TRUE(index->Add(1, {"Replication", "Copies of data are kept on several servers."}).ok());
  ASSERT_TRUE(index->Add(2, {"B-tree", "A balanced tree keeps data sorted for servers."}).ok());
  ASSERT_TRUE(index->Add(3, {"Cache", "A small fast memory."}).ok());
  ASSERT_TRUE(index->Remove(3));
  std::string image = index->Serialize();
  auto loaded = TextIndex::Deserialize(image);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 2u);
  auto a = index->Search("data servers replication", 10);
  auto b = (*loaded)->Search("data servers replication", 10);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_FLOAT_EQ(a[i].score, b[i].score);
  }
}

TEST(TextIndexTest, DamagedImagesAreCorruptionNotCrashes) {
  auto index = TextIndex::Create({}).value();
  ASSERT_TRUE(index->Add(9, {"some words here"}).ok());
  std::string image = index->Serialize();
  for (size_t cut = 0; cut < image.size(); ++cut) {
    auto r = TextIndex::Deserialize(image.substr(0, cut));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
  std::string flipped = image;
  flipped[image.size() / 2] ^= 0x40;
  EXPECT_EQ(TextIndex::Deserialize(flipped).status().code(), StatusCode::kCorruption);
}

TEST(TextIndexTest, InvalidOptionsAndArityAreRejected) {
  TextIndexOptions bad;
  bad.fields = {};
  EXPECT_EQ(TextIndex::Create(bad).status().code(), StatusCode::kInvalidArgument);
  bad.fields = {{"x", 0.0f}};
  EXPECT_EQ(TextIndex::Create(bad).status().code(), StatusCode::kInvalidArgument);
  auto index = TextIndex::Create({}).value();
  EXPECT_EQ(index->Add(1, {"a", "b"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->AddTerms(1, {{"a"}, {"b"}}).code(), StatusCode::kInvalidArgument);
}

TEST(TextIndexTest, IdfAndMemoryAccountingTrackContents) {
  auto index = TextIndex::Create({}).value();
  size_t empty = index->MemoryUsage();
  for (uint64_t id = 0; id < 100; ++id) {
    ASSERT_TRUE(index->Add(id, {id % 10 == 0 ? "rare common" : "common"}).ok());
  }
  EXPECT_EQ(index->DocFrequency("common"), 100u);
  EXPECT_EQ(index->DocFrequency("rare"), 10u);
  EXPECT_GT(index->Idf("rare"), index->Idf("common"));
  EXPECT_GT(index->Idf("neverseen"), index->Idf("rare"));
  EXPECT_GT(index->MemoryUsage(), empty);
  for (uint64_t id = 0; id < 100; ++id) ASSERT_TRUE(index->Remove(id));
  EXPECT_EQ(index->size(), 0u);
  EXPECT_EQ(index->DocFrequency("common"), 0u);
  EXPECT_TRUE(index->Search("common", 5).empty());
}

}  // namespace
}  // namespace ragkv::text
