// Shared helpers for the vector index tests: seeded clustered data, a recall
// measure against an exact twin, and sanitizer-aware sizes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "index/vector/vector_index.h"

namespace ragkv::vec::testing {

// Sanitizers slow the graph build ~20x; keep those runs to seconds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr size_t kScale = 4;
#else
constexpr size_t kScale = 1;
#endif

// n points around `clusters` Gaussian centres (real data is clustered; pure
// isotropic noise would make every ANN index look bad).
inline std::vector<float> ClusteredData(size_t n, size_t dim, uint64_t seed,
                                        size_t clusters = 16) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> centers(clusters * dim);
  for (float& c : centers) c = 4 * g(rng);
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % clusters;
    for (size_t d = 0; d < dim; ++d) out[i * dim + d] = centers[c * dim + d] + g(rng);
  }
  return out;
}

inline std::unique_ptr<VectorIndex> MakeIndex(IndexSpec spec) {
  auto index = VectorIndex::Create(spec);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

// Checks sorted-by-(distance, label) and unique labels.
inline void ExpectSortedUnique(const std::vector<Neighbor>& hits) {
  std::set<uint64_t> labels;
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_TRUE(labels.insert(hits[i].label).second) << "duplicate label " << hits[i].label;
    if (i > 0) {
      const bool ordered = hits[i - 1].distance < hits[i].distance ||
                           (hits[i - 1].distance == hits[i].distance &&
                            hits[i - 1].label < hits[i].label);
      EXPECT_TRUE(ordered) << "results out of order at " << i;
    }
  }
}

// Mean recall@k of `index` against `truth` over the queries.
inline double Recall(const VectorIndex& index, const VectorIndex& truth,
                     const std::vector<float>& queries, size_t k, SearchParams params = {}) {
  const size_t dim = index.dim();
  const size_t nq = queries.size() / dim;
  double hit = 0, total = 0;
  for (size_t i = 0; i < nq; ++i) {
    std::span<const float> q(queries.data() + i * dim, dim);
    auto got = index.Search(q, k, params);
    SearchParams exact;
    exact.filter = params.filter;
    auto want = truth.Search(q, k, exact);
    EXPECT_TRUE(got.ok() && want.ok());
    if (!got.ok() || !want.ok()) return 0;
    ExpectSortedUnique(*got);
    std::set<uint64_t> w;
    for (const auto& n : *want) w.insert(n.label);
    for (const auto& n : *got) hit += w.count(n.label);
    total += static_cast<double>(want->size());
  }
  return total == 0 ? 1.0 : hit / total;
}

}  // namespace ragkv::vec::testing
