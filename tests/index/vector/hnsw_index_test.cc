// HNSW against its exact twin (FLAT over the same storage type): recall over
// many seeds, every metric and storage type, churn, filters, parallel build,
// concurrent readers with a writer, and bad input.
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

#include "index/vector/vector_test_util.h"

namespace ragkv::vec {
namespace {

using testing::ClusteredData;
using testing::kScale;
using testing::MakeIndex;
using testing::Recall;

struct Twin {
  std::unique_ptr<VectorIndex> hnsw;
  std::unique_ptr<VectorIndex> flat;
};

Twin BuildTwin(size_t n, size_t dim, uint64_t seed, Metric metric = Metric::kL2,
               ElementType type = ElementType::kFloat32, size_t m = 12) {
  IndexSpec spec;
  spec.dim = dim;
  spec.metric = metric;
  spec.type = type;
  spec.m = m;
  spec.ef_construction = 100;
  spec.seed = seed;
  spec.initial_cap = 8;  // exercise growth
  if (type == ElementType::kInt8 || type == ElementType::kUint8) {
    if (metric != Metric::kCosine) {
      spec.quant_min = -12.0f;
      spec.quant_max = 12.0f;
    }
  }
  auto data = ClusteredData(n, dim, seed);
  if (metric == Metric::kIp) {
    // IP on raw clustered data is maximum-inner-product search, where graph
    // search is known to be weak; embeddings searched by IP are near-unit.
    for (size_t i = 0; i < n; ++i) {
      double norm = 0;
      for (size_t d = 0; d < dim; ++d) norm += data[i * dim + d] * data[i * dim + d];
      const float scale = static_cast<float>((0.9 + 0.2 * (i % 7) / 6.0) / std::sqrt(norm));
      for (size_t d = 0; d < dim; ++d) data[i * dim + d] *= scale;
    }
    if (type == ElementType::kInt8 || type == ElementType::kUint8) {
      spec.quant_min = -1.2f;
      spec.quant_max = 1.2f;
    }
  }
  Twin t;
  t.hnsw = MakeIndex(spec);
  spec.algorithm = Algorithm::kFlat;
  t.flat = MakeIndex(spec);
  for (size_t i = 0; i < n; ++i) {
    std::span<const float> v(data.data() + i * dim, dim);
    EXPECT_TRUE(t.hnsw->Add(1000 + i, v).ok());
    EXPECT_TRUE(t.flat->Add(1000 + i, v).ok());
  }
  return t;
}

TEST(HnswIndexTest, RecallAgainstFlatOverManySeeds) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const size_t dim = 8 + 8 * (seed % 4);
    Twin t = BuildTwin(2000 / kScale, dim, seed);
    ASSERT_TRUE(t.hnsw->CheckInvariants().ok()) << t.hnsw->CheckInvariants().ToString();
    EXPECT_EQ(t.hnsw->Stats().unreachable, 0u);
    const auto queries = ClusteredData(50, dim, seed + 100);
    EXPECT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 64}), 0.95) << "seed " << seed;
  }
}

TEST(HnswIndexTest, EveryMetricAndStorageType) {
  for (Metric metric : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    for (ElementType type : {ElementType::kFloat32, ElementType::kFloat64, ElementType::kFloat16,
                             ElementType::kBFloat16, ElementType::kInt8, ElementType::kUint8}) {
      Twin t = BuildTwin(1000 / kScale, 24, 7, metric, type);
      ASSERT_TRUE(t.hnsw->CheckInvariants().ok());
      const auto queries = ClusteredData(30, 24, 77);
      EXPECT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 80}), 0.93)
          << MetricName(metric) << " " << ElementTypeName(type);
    }
  }
}

TEST(HnswIndexTest, ResultsSortedUniqueAndExhaustiveWhenSmall) {
  Twin t = BuildTwin(50, 8, 3);
  const auto q = ClusteredData(1, 8, 4);
  auto all = t.hnsw->Search(q, 1000, {.ef = 1000});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 50u);
  testing::ExpectSortedUnique(*all);
  auto exact = t.flat->Search(q, 1000);
  ASSERT_TRUE(exact.ok());
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ((*all)[i].label, (*exact)[i].label);
}

TEST(HnswIndexTest, ChurnKeepsRecallAndInvariants) {
  const size_t n = 2000 / kScale, dim = 16;
  Twin t = BuildTwin(n, dim, 11);
  std::mt19937_64 rng(5);
  const auto fresh = ClusteredData(n, dim, 12);
  std::vector<uint64_t> live;
  for (size_t i = 0; i < n; ++i) live.push_back(1000 + i);
  uint64_t next_label = 100000;
  for (size_t round = 0; round < 3 * n; ++round) {
    const size_t pick = rng() % live.size();
    const std::span<const float> v(fresh.data() + (round % n) * dim, dim);
    switch (rng() % 3) {
      case 0: {  // delete
        ASSERT_TRUE(t.hnsw->Remove(live[pick]).ok());
        ASSERT_TRUE(t.flat->Remove(live[pick]).ok());
        live[pick] = live.back();
        live.pop_back();
        break;
      }
      case 1: {  // replace in place
        ASSERT_TRUE(t.hnsw->Add(live[pick], v).ok());
        ASSERT_TRUE(t.flat->Add(live[pick], v).ok());
        break;
      }
      default: {  // insert a new label
        ASSERT_TRUE(t.hnsw->Add(next_label, v).ok());
        ASSERT_TRUE(t.flat->Add(next_label, v).ok());
        live.push_back(next_label++);
      }
    }
    if (round % 500 == 0) {
      ASSERT_TRUE(t.hnsw->CheckInvariants().ok()) << t.hnsw->CheckInvariants().ToString();
    }
  }
  ASSERT_TRUE(t.hnsw->CheckInvariants().ok()) << t.hnsw->CheckInvariants().ToString();
  EXPECT_EQ(t.hnsw->size(), live.size());
  const IndexStats stats = t.hnsw->Stats();
  EXPECT_LE(stats.unreachable, live.size() / 100);
  const auto queries = ClusteredData(50, dim, 13);
  EXPECT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 64}), 0.93);
  // Remove everything: the index empties cleanly and refills.
  for (uint64_t label : live) ASSERT_TRUE(t.hnsw->Remove(label).ok());
  EXPECT_EQ(t.hnsw->size(), 0u);
  ASSERT_TRUE(t.hnsw->CheckInvariants().ok());
  auto none = t.hnsw->Search(std::span<const float>(fresh.data(), dim), 5);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(t.hnsw->Add(1, std::span<const float>(fresh.data(), dim)).ok());
  ASSERT_TRUE(t.hnsw->CheckInvariants().ok());
  EXPECT_EQ(t.hnsw->size(), 1u);
}

TEST(HnswIndexTest, FilteredSearchAtEverySelectivity) {
  const size_t n = 4000 / kScale, dim = 16;
  Twin t = BuildTwin(n, dim, 21);
  const auto queries = ClusteredData(40, dim, 22);
  // A filter must not cost recall: compare with the unfiltered search at the
  // same ef, and require 0.95 where the unfiltered search reaches it (ef 200).
  const double unfiltered_20 = Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 20});
  ASSERT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 200}), 0.95);
  for (double fraction : {0.01, 0.1, 0.5}) {
    std::mt19937_64 rng(static_cast<uint64_t>(fraction * 1000));
    BitmapFilter bitmap(1000 + n);
    for (size_t i = 0; i < n; ++i) {
      if (std::uniform_real_distribution<double>(0, 1)(rng) < fraction) bitmap.Set(1000 + i);
    }
    EXPECT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 20, .filter = &bitmap}),
              unfiltered_20 - 0.02)
        << "bitmap " << fraction;
    EXPECT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 200, .filter = &bitmap}), 0.95)
        << "bitmap " << fraction;
    // The same set behind an opaque predicate exercises the sampling planner.
    PredicateFilter predicate([&bitmap](uint64_t label) { return bitmap.Allows(label); });
    EXPECT_GE(Recall(*t.hnsw, *t.flat, queries, 10, {.ef = 200, .filter = &predicate}), 0.95)
        << "predicate " << fraction;
  }
}

TEST(HnswIndexTest, RangeSearchMatchesFlat) {
  Twin t = BuildTwin(1500 / kScale, 12, 31);
  const auto queries = ClusteredData(10, 12, 32);
  size_t found = 0, total = 0;
  for (size_t i = 0; i < 10; ++i) {
    std::span<const float> q(queries.data() + i * 12, 12);
    auto nearest = t.flat->Search(q, 30);
    ASSERT_TRUE(nearest.ok());
    const float radius = nearest->back().distance;
    auto got = t.hnsw->RangeSearch(q, radius);
    auto want = t.flat->RangeSearch(q, radius);
    ASSERT_TRUE(got.ok() && want.ok());
    testing::ExpectSortedUnique(*got);
    for (const auto& hit : *got) EXPECT_LE(hit.distance, radius);
    found += got->size();
    total += want->size();
  }
  EXPECT_GE(static_cast<double>(found), 0.95 * static_cast<double>(total));
}

TEST(HnswIndexTest, ParallelBuildMatchesSerialQuality) {
  const size_t n = 3000 / kScale, dim = 16;
  IndexSpec spec;
  spec.dim = dim;
  spec.ef_construction = 100;
  spec.initial_cap = 10;
  auto hnsw = MakeIndex(spec);
  spec.algorithm = Algorithm::kFlat;
  auto flat = MakeIndex(spec);
  const auto data = ClusteredData(n, dim, 41);
  std::vector<uint64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = i;
  labels[n - 1] = 0;  // a duplicate inside the batch replaces, never duplicates
  ASSERT_TRUE(hnsw->AddBatch(labels, data, 4).ok());
  ASSERT_TRUE(flat->AddBatch(labels, data, 1).ok());
  EXPECT_EQ(hnsw->size(), n - 1);
  ASSERT_TRUE(hnsw->CheckInvariants().ok()) << hnsw->CheckInvariants().ToString();
  EXPECT_LE(hnsw->Stats().unreachable, 2u);
  const auto queries = ClusteredData(50, dim, 42);
  EXPECT_GE(Recall(*hnsw, *flat, queries, 10, {.ef = 64}), 0.95);
  std::vector<float> bad(dim * 2, 0.0f);
  bad[dim + 3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint64_t> bad_labels = {7000, 7001};
  EXPECT_EQ(hnsw->AddBatch(bad_labels, bad, 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hnsw->AddBatch(bad_labels, std::span(bad).first(3), 2).code(),
            StatusCode::kInvalidArgument);
}

TEST(HnswIndexTest, ConcurrentReadersWithOneWriter) {
  const size_t dim = 16, n = 1500 / kScale;
  IndexSpec spec;
  spec.dim = dim;
  spec.ef_construction = 64;
  auto index = MakeIndex(spec);
  const auto data = ClusteredData(2 * n, dim, 51);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(index->Add(i, std::span<const float>(data.data() + i * dim, dim)).ok());
  }
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::atomic<bool> bad{false};
  auto reader = [&] {
    size_t i = 0;
    while (!done.load()) {
      auto r = index->Search(std::span<const float>(data.data() + (i++ % n) * dim, dim), 5);
      if (!r.ok() || r->empty()) bad = true;
      searches++;
    }
  };
  std::thread r1(reader), r2(reader);
  for (size_t i = n; i < 2 * n; ++i) {
    ASSERT_TRUE(index->Add(i, std::span<const float>(data.data() + i * dim, dim)).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(index->Remove(i - n).ok());
    }
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_FALSE(bad.load());
  EXPECT_GT(searches.load(), 0u);
  ASSERT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
}

TEST(HnswIndexTest, BadInput) {
  IndexSpec spec;
  spec.dim = 4;
  spec.metric = Metric::kCosine;
  auto index = MakeIndex(spec);
  EXPECT_EQ(index->Add(1, std::vector<float>{0, 0, 0, 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Add(1, std::vector<float>{1, 2, 3}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(index->Add(1, std::vector<float>{1, 2, 3, 4}).ok());
  EXPECT_EQ(index->Remove(2).code(), StatusCode::kNotFound);
  const std::vector<float> q = {1, 0, 0, 0};
  EXPECT_EQ(index->Search(q, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search(q, 10, {.ef = 5}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search(std::vector<float>{0, 0, 0, 0}, 1).status().code(),
            StatusCode::kInvalidArgument);
  auto huge = index->Search(q, ~size_t{0});
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->size(), 1u);
  IndexSpec bad = spec;
  bad.ef_construction = 0;
  EXPECT_EQ(VectorIndex::Create(bad).status().code(), StatusCode::kInvalidArgument);
  bad = spec;
  bad.type = ElementType::kUint8;
  bad.quant_min = 3;
  bad.quant_max = 3;
  EXPECT_EQ(VectorIndex::Create(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ragkv::vec
