// Micro-benchmarks for the order-statistic AVL tree, side by side with
// std::set (a red-black tree without subtree sizes, so its rank is
// std::distance: O(n)) and with a pooled-node variant of AvlTree.
//
//   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DRAGKV_BUILD_BENCH=ON
//   cmake --build build/release -j2 --target avl_bench
//   build/release/bench/avl/avl_bench
//
// Keys are uniformly random 64-bit integers from a fixed seed; every run sees
// the same sequence. Results and their reading: docs/benchmarks/avl.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/avl/avl_tree.h"
#include "index/avl/node_pool.h"
#include "index/avl/sorted_set.h"

namespace ragkv::avl {
namespace {

std::vector<uint64_t> RandomKeys(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rng();
  return keys;
}

using Tree = AvlTree<uint64_t>;
using PooledTree = AvlTree<uint64_t, std::less<uint64_t>, PoolAllocator<uint64_t>>;

template <typename T>
T MakeContainer() {
  if constexpr (std::is_same_v<T, PooledTree>) {
    return PooledTree(std::less<uint64_t>(),
                      PoolAllocator<uint64_t>(std::make_shared<NodePool>()));
  } else {
    return T();
  }
}

template <typename T>
void Add(T& c, uint64_t k) {
  if constexpr (std::is_same_v<T, std::set<uint64_t>>) {
    c.insert(k);
  } else {
    c.Insert(k);
  }
}

// Builds a container of n random keys, n = state.range(0).
template <typename T>
void BM_Insert(benchmark::State& state) {
  const auto keys = RandomKeys(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) {
    T c = MakeContainer<T>();
    for (uint64_t k : keys) Add(c, k);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
}

// Inserts n keys, then erases them all in a different random order; the
// timing covers both halves (insert + erase per item).
template <typename T>
void BM_InsertErase(benchmark::State& state) {
  const auto keys = RandomKeys(static_cast<size_t>(state.range(0)), 1);
  auto order = keys;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(2));
  for (auto _ : state) {
    T c = MakeContainer<T>();
    for (uint64_t k : keys) Add(c, k);
    for (uint64_t k : order) {
      if constexpr (std::is_same_v<T, std::set<uint64_t>>) {
        c.erase(k);
      } else {
        c.Erase(k);
      }
    }
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
}

// Rank of a random probe: O(log n) for AvlTree, std::distance for std::set.
void BM_RankAvl(benchmark::State& state) {
  const auto keys = RandomKeys(static_cast<size_t>(state.range(0)), 1);
  Tree t;
  for (uint64_t k : keys) t.Insert(k);
  const auto probes = RandomKeys(4096, 3);
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(t.Rank(probes[i++ & 4095]));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
void BM_RankStdSet(benchmark::State& state) {
  const auto keys = RandomKeys(static_cast<size_t>(state.range(0)), 1);
  std::set<uint64_t> s(keys.begin(), keys.end());
  const auto probes = RandomKeys(4096, 3);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::distance(s.begin(), s.lower_bound(probes[i++ & 4095])));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// ZRANGE-like scan: position at a random rank, visit the next 100 keys.
void BM_RangeByRankAvl(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Tree t;
  for (uint64_t k : RandomKeys(n, 1)) t.Insert(k);
  std::mt19937_64 rng(4);
  for (auto _ : state) {
    auto it = t.IteratorAt(rng() % (t.size() - 100));
    uint64_t sum = 0;
    for (int j = 0; j < 100; ++j, ++it) sum += *it;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 100));
}
void BM_RangeByRankStdSet(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto keys = RandomKeys(n, 1);
  std::set<uint64_t> s(keys.begin(), keys.end());
  std::mt19937_64 rng(4);
  for (auto _ : state) {
    auto it = std::next(s.begin(), static_cast<std::ptrdiff_t>(rng() % (s.size() - 100)));
    uint64_t sum = 0;
    for (int j = 0; j < 100; ++j, ++it) sum += *it;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 100));
}

// Range by key bounds (ZRANGEBYSCORE shape): the count of keys in a random
// interval, O(log n) with two ranks vs walking the interval in std::set.
void BM_CountInRangeAvl(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Tree t;
  for (uint64_t k : RandomKeys(n, 1)) t.Insert(k);
  std::mt19937_64 rng(5);
  const uint64_t width = ~uint64_t{0} / 100;  // about 1% of the keys
  for (auto _ : state) {
    const uint64_t lo = rng() % (~uint64_t{0} - width);
    benchmark::DoNotOptimize(t.Rank(lo + width) - t.Rank(lo));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
void BM_CountInRangeStdSet(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto keys = RandomKeys(n, 1);
  std::set<uint64_t> s(keys.begin(), keys.end());
  std::mt19937_64 rng(5);
  const uint64_t width = ~uint64_t{0} / 100;
  for (auto _ : state) {
    const uint64_t lo = rng() % (~uint64_t{0} - width);
    benchmark::DoNotOptimize(std::distance(s.lower_bound(lo), s.lower_bound(lo + width)));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// SortedSet: ZADD of n fresh members with random scores, then ZRANK lookups.
void BM_SortedSetAdd(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<std::string> members(n);
  for (size_t i = 0; i < n; ++i) members[i] = "member:" + std::to_string(i);
  const auto scores = RandomKeys(n, 6);
  for (auto _ : state) {
    SortedSet z;
    for (size_t i = 0; i < n; ++i) z.Add(members[i], static_cast<double>(scores[i] >> 11));
    benchmark::DoNotOptimize(z);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
void BM_SortedSetRank(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<std::string> members(n);
  for (size_t i = 0; i < n; ++i) members[i] = "member:" + std::to_string(i);
  const auto scores = RandomKeys(n, 6);
  SortedSet z;
  for (size_t i = 0; i < n; ++i) z.Add(members[i], static_cast<double>(scores[i] >> 11));
  std::mt19937_64 rng(7);
  for (auto _ : state) benchmark::DoNotOptimize(z.Rank(members[rng() % n]));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// ZINCRBY with small increments: most updates keep the member's position and
// take the in-place path.
void BM_SortedSetIncrBy(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<std::string> members(n);
  for (size_t i = 0; i < n; ++i) members[i] = "member:" + std::to_string(i);
  SortedSet z;
  for (size_t i = 0; i < n; ++i) z.Add(members[i], static_cast<double>(i));
  std::mt19937_64 rng(8);
  for (auto _ : state) {
    benchmark::DoNotOptimize(z.Add(members[rng() % n], 0.25, AddFlags{.incr = true}));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_Insert<Tree>)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Insert<PooledTree>)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Insert<std::set<uint64_t>>)->Arg(1000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InsertErase<Tree>)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InsertErase<PooledTree>)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_InsertErase<std::set<uint64_t>>)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RankAvl)->Arg(1000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_RankStdSet)->Arg(1000)->Arg(100000);
BENCHMARK(BM_RangeByRankAvl)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_RangeByRankStdSet)->Arg(100000);
BENCHMARK(BM_CountInRangeAvl)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_CountInRangeStdSet)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_SortedSetAdd)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SortedSetRank)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_SortedSetIncrBy)->Arg(100000);

}  // namespace
}  // namespace ragkv::avl

BENCHMARK_MAIN();
