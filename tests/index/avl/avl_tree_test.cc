#include "index/avl/avl_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "index/avl/node_pool.h"
#include "index/avl/test_scale.h"

namespace ragkv::avl {
namespace {

using testing::Scaled;

// Brute-force twin: a sorted vector, ranks by binary search over it.
class SortedVectorTwin {
 public:
  bool Insert(int64_t k) {
    auto it = std::lower_bound(v_.begin(), v_.end(), k);
    if (it != v_.end() && *it == k) return false;
    v_.insert(it, k);
    return true;
  }
  bool Erase(int64_t k) {
    auto it = std::lower_bound(v_.begin(), v_.end(), k);
    if (it == v_.end() || *it != k) return false;
    v_.erase(it);
    return true;
  }
  size_t Rank(int64_t k) const {
    return static_cast<size_t>(std::lower_bound(v_.begin(), v_.end(), k) - v_.begin());
  }
  size_t UpperBoundRank(int64_t k) const {
    return static_cast<size_t>(std::upper_bound(v_.begin(), v_.end(), k) - v_.begin());
  }
  const std::vector<int64_t>& keys() const { return v_; }
  std::vector<int64_t>& mutable_keys() { return v_; }

 private:
  std::vector<int64_t> v_;
};

std::vector<int64_t> Contents(const AvlTree<int64_t>& tree) {
  return std::vector<int64_t>(tree.begin(), tree.end());
}

// Height bound of an AVL tree with n keys: h < 1.4405 log2(n + 2) - 0.3277.
int MaxAvlHeight(size_t n) {
  return static_cast<int>(std::floor(1.4405 * std::log2(static_cast<double>(n) + 2) - 0.3277));
}

TEST(AvlTreeTest, EmptyTree) {
  AvlTree<int64_t> tree;
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.height(), 0);
  EXPECT_EQ(tree.Select(0), nullptr);
  EXPECT_EQ(tree.Rank(5), 0u);
  EXPECT_EQ(tree.UpperBoundRank(5), 0u);
  EXPECT_FALSE(tree.Erase(5));
  EXPECT_EQ(tree.Find(5), nullptr);
  EXPECT_TRUE(tree.begin() == tree.end());
  EXPECT_TRUE(tree.IteratorAt(0) == tree.end());
  EXPECT_TRUE(tree.LowerBound(3) == tree.end());
  EXPECT_EQ(tree.EraseRange(0, 10), 0u);
  EXPECT_TRUE(tree.CheckInvariants().ok());
}

TEST(AvlTreeTest, InsertRejectsDuplicates) {
  AvlTree<int64_t> tree;
  EXPECT_TRUE(tree.Insert(3));
  EXPECT_FALSE(tree.Insert(3));
  EXPECT_EQ(tree.size(), 1u);
  ASSERT_NE(tree.Find(3), nullptr);
  EXPECT_EQ(*tree.Find(3), 3);
  EXPECT_TRUE(tree.Contains(3));
  EXPECT_FALSE(tree.Contains(4));
}

TEST(AvlTreeTest, SequentialInsertsStayBalanced) {
  for (bool ascending : {true, false}) {
    AvlTree<int64_t> tree;
    const size_t n = Scaled(100000);
    for (size_t i = 0; i < n; ++i) {
      const auto k = static_cast<int64_t>(ascending ? i : n - i);
      ASSERT_TRUE(tree.Insert(k));
    }
    ASSERT_TRUE(tree.CheckInvariants().ok()) << tree.CheckInvariants().ToString();
    EXPECT_EQ(tree.size(), n);
    EXPECT_LE(tree.height(), MaxAvlHeight(n));
  }
}

TEST(AvlTreeTest, RankSelectAndBoundsOnSmallTree) {
  AvlTree<int64_t> tree;
  for (int64_t k : {50, 10, 40, 20, 30}) ASSERT_TRUE(tree.Insert(k));
  EXPECT_EQ(Contents(tree), (std::vector<int64_t>{10, 20, 30, 40, 50}));
  EXPECT_EQ(tree.Rank(10), 0u);
  EXPECT_EQ(tree.Rank(35), 3u);
  EXPECT_EQ(tree.Rank(60), 5u);
  EXPECT_EQ(tree.UpperBoundRank(30), 3u);
  EXPECT_EQ(tree.UpperBoundRank(5), 0u);
  EXPECT_EQ(*tree.Select(0), 10);
  EXPECT_EQ(*tree.Select(4), 50);
  EXPECT_EQ(tree.Select(5), nullptr);
  EXPECT_EQ(*tree.LowerBound(25), 30);
  EXPECT_EQ(*tree.LowerBound(30), 30);
  EXPECT_EQ(tree.PartitionPoint([](int64_t k) { return k % 100 < 35; }), 3u);
}

TEST(AvlTreeTest, IteratesBothWaysFromAnyRank) {
  AvlTree<int64_t> tree;
  const std::vector<int64_t> keys = {1, 3, 5, 7, 9, 11, 13};
  for (int64_t k : keys) ASSERT_TRUE(tree.Insert(k));
  for (size_t r = 0; r < keys.size(); ++r) {
    std::vector<int64_t> forward(tree.IteratorAt(r), tree.end());
    EXPECT_EQ(forward, std::vector<int64_t>(keys.begin() + static_cast<ptrdiff_t>(r), keys.end()));
    std::vector<int64_t> backward;
    auto it = tree.IteratorAt(r);
    for (;;) {
      backward.push_back(*it);
      if (it == tree.begin()) break;
      --it;
    }
    std::vector<int64_t> expected(keys.begin(), keys.begin() + static_cast<ptrdiff_t>(r) + 1);
    std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(backward, expected);
  }
  auto last = tree.end();
  --last;
  EXPECT_EQ(*last, 13);
  EXPECT_EQ(*std::prev(tree.end(), 2), 11);
}

TEST(AvlTreeTest, EraseByIteratorReturnsSuccessorAndKeepsOthersValid) {
  AvlTree<int64_t> tree;
  for (int64_t k = 0; k < 64; ++k) ASSERT_TRUE(tree.Insert(k));
  auto keep = tree.IteratorAt(40);  // must stay valid across unrelated erases
  auto it = tree.IteratorAt(10);
  for (int i = 0; i < 20; ++i) it = tree.Erase(it);
  EXPECT_EQ(*it, 30);
  EXPECT_EQ(*keep, 40);
  EXPECT_EQ(tree.size(), 44u);
  EXPECT_EQ(tree.Rank(40), 20u);
  ASSERT_TRUE(tree.CheckInvariants().ok()) << tree.CheckInvariants().ToString();
}

TEST(AvlTreeTest, ReplaceInPlaceOnlyWhenOrderIsKept) {
  AvlTree<int64_t> tree;
  for (int64_t k : {10, 20, 30}) tree.Insert(k);
  EXPECT_TRUE(tree.ReplaceInPlace(tree.IteratorAt(1), 25));
  EXPECT_FALSE(tree.ReplaceInPlace(tree.IteratorAt(1), 30));  // equal to the successor
  EXPECT_FALSE(tree.ReplaceInPlace(tree.IteratorAt(1), 5));
  EXPECT_TRUE(tree.ReplaceInPlace(tree.IteratorAt(0), -100));  // no predecessor
  EXPECT_TRUE(tree.ReplaceInPlace(tree.IteratorAt(2), 1000));  // no successor
  EXPECT_EQ(Contents(tree), (std::vector<int64_t>{-100, 25, 1000}));
  EXPECT_TRUE(tree.CheckInvariants().ok());
}

TEST(AvlTreeTest, EraseRangeSmallAndLargePathsMatchTwin) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    AvlTree<int64_t> tree;
    SortedVectorTwin twin;
    const size_t n = rng() % 300;
    for (size_t i = 0; i < n; ++i) {
      const auto k = static_cast<int64_t>(rng() % 1000);
      ASSERT_EQ(tree.Insert(k), twin.Insert(k));
    }
    const size_t first = rng() % (tree.size() + 2);
    const size_t last = first + rng() % (tree.size() + 2);  // may exceed size(): clamped
    std::vector<int64_t> erased;
    const size_t removed = tree.EraseRange(first, last, [&](int64_t k) { erased.push_back(k); });
    auto& v = twin.mutable_keys();
    const size_t lo = std::min(first, v.size());
    const size_t hi = std::min(last, v.size());
    std::vector<int64_t> expected_erased;
    if (lo < hi) {
      expected_erased.assign(v.begin() + static_cast<ptrdiff_t>(lo),
                             v.begin() + static_cast<ptrdiff_t>(hi));
      v.erase(v.begin() + static_cast<ptrdiff_t>(lo), v.begin() + static_cast<ptrdiff_t>(hi));
    }
    EXPECT_EQ(removed, expected_erased.size());
    EXPECT_EQ(erased, expected_erased);
    EXPECT_EQ(Contents(tree), twin.keys());
    ASSERT_TRUE(tree.CheckInvariants().ok()) << tree.CheckInvariants().ToString();
  }
}

TEST(AvlTreeTest, AssignSortedBuildsBalancedTree) {
  for (size_t n : {0u, 1u, 2u, 3u, 7u, 8u, 1000u}) {
    std::vector<int64_t> keys(n);
    for (size_t i = 0; i < n; ++i) keys[i] = static_cast<int64_t>(i * 3);
    AvlTree<int64_t> tree;
    tree.Insert(-1);  // replaced
    tree.AssignSorted(keys.begin(), keys.end());
    EXPECT_EQ(Contents(tree), keys);
    ASSERT_TRUE(tree.CheckInvariants().ok()) << tree.CheckInvariants().ToString();
    if (n > 0) {
      EXPECT_EQ(tree.height(), static_cast<int>(std::floor(std::log2(static_cast<double>(n)))) + 1);
    }
  }
}

TEST(AvlTreeTest, CheckInvariantsReportsUnsortedKeys) {
  const std::vector<int64_t> unsorted = {1, 5, 3};
  AvlTree<int64_t> tree;
  tree.AssignSorted(unsorted.begin(), unsorted.end());  // violates the REQUIRES on purpose
  const Status s = tree.CheckInvariants();
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("strictly increasing"), std::string_view::npos);
}

TEST(AvlTreeTest, MoveTransfersOwnership) {
  AvlTree<int64_t> a;
  for (int64_t k = 0; k < 100; ++k) a.Insert(k);
  AvlTree<int64_t> b(std::move(a));
  EXPECT_EQ(b.size(), 100u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  AvlTree<int64_t> c;
  c.Insert(7);
  c = std::move(b);
  EXPECT_EQ(c.size(), 100u);
  EXPECT_TRUE(c.CheckInvariants().ok());
  EXPECT_GE(c.MemoryUsage(), 100u * sizeof(int64_t));
}

TEST(AvlTreeTest, CustomComparatorAndCompositeKeys) {
  // NUMERIC field index shape: (value, doc id), descending comparator.
  using Key = std::pair<double, uint64_t>;
  AvlTree<Key, std::greater<Key>> tree;
  tree.Insert({1.5, 2});
  tree.Insert({1.5, 1});
  tree.Insert({-3.0, 9});
  tree.Insert({7.0, 4});
  std::vector<Key> got(tree.begin(), tree.end());
  EXPECT_EQ(got, (std::vector<Key>{{7.0, 4}, {1.5, 2}, {1.5, 1}, {-3.0, 9}}));
  // Keys with value >= 1.5 precede the partition point under this order.
  EXPECT_EQ(tree.PartitionPoint([](const Key& k) { return k.first >= 1.5; }), 3u);

  AvlTree<std::string> strings;
  for (const char* s : {"b", "a", "ab", "", "ba"}) strings.Insert(s);
  EXPECT_EQ(std::vector<std::string>(strings.begin(), strings.end()),
            (std::vector<std::string>{"", "a", "ab", "b", "ba"}));
  EXPECT_TRUE(strings.Erase("ab"));
  EXPECT_TRUE(strings.CheckInvariants().ok());
}

// The main reference-model test: millions of random operations (in an
// optimised build) against the sorted-vector twin, every query type checked on
// every step, invariants every 1000 operations.
TEST(AvlTreeTest, RandomOperationsMatchBruteForceTwin) {
  std::mt19937_64 rng(42);
  AvlTree<int64_t> tree;
  SortedVectorTwin twin;
  const size_t ops = Scaled(2000000);
  // A key universe of 4096 keeps the tree around 2-3k keys, so inserts and
  // erases hit both present and absent keys often.
  constexpr int64_t kUniverse = 4096;
  for (size_t i = 0; i < ops; ++i) {
    const int64_t k = static_cast<int64_t>(rng() % kUniverse);
    const auto op = rng() % 100;
    if (op < 40) {
      ASSERT_EQ(tree.Insert(k), twin.Insert(k)) << "op " << i;
    } else if (op < 75) {
      ASSERT_EQ(tree.Erase(k), twin.Erase(k)) << "op " << i;
    } else if (op < 85) {
      ASSERT_EQ(tree.Rank(k), twin.Rank(k));
      ASSERT_EQ(tree.UpperBoundRank(k), twin.UpperBoundRank(k));
      ASSERT_EQ(tree.Contains(k), twin.Rank(k) != twin.UpperBoundRank(k));
    } else if (op < 95) {
      const size_t r = rng() % (twin.keys().size() + 1);
      const int64_t* got = tree.Select(r);
      if (r == twin.keys().size()) {
        ASSERT_EQ(got, nullptr);
      } else {
        ASSERT_NE(got, nullptr);
        ASSERT_EQ(*got, twin.keys()[r]);
      }
    } else if (op < 99) {
      // Short walks from a random rank, forwards or backwards.
      const auto& v = twin.keys();
      if (v.empty()) continue;
      const size_t r = rng() % v.size();
      auto it = tree.IteratorAt(r);
      if (rng() % 2 == 0) {
        for (size_t j = r; j < std::min(v.size(), r + 8); ++j, ++it) ASSERT_EQ(*it, v[j]);
      } else {
        for (size_t j = r + 1; j-- > (r >= 8 ? r - 8 : 0);) {
          ASSERT_EQ(*it, v[j]);
          if (j > 0) --it;
        }
      }
    } else {
      const size_t first = rng() % (twin.keys().size() + 1);
      const size_t last = first + rng() % 16;
      tree.EraseRange(first, last);
      auto& v = twin.mutable_keys();
      const size_t hi = std::min(last, v.size());
      if (first < hi) {
        v.erase(v.begin() + static_cast<ptrdiff_t>(first), v.begin() + static_cast<ptrdiff_t>(hi));
      }
    }
    ASSERT_EQ(tree.size(), twin.keys().size());
    if (i % 1000 == 0) {
      const Status s = tree.CheckInvariants();
      ASSERT_TRUE(s.ok()) << "after op " << i << ": " << s.ToString();
      ASSERT_LE(tree.height(), MaxAvlHeight(tree.size()));
    }
    if (i % 100000 == 0) {
      ASSERT_EQ(Contents(tree), twin.keys());
    }
  }
  ASSERT_TRUE(tree.CheckInvariants().ok());
  EXPECT_EQ(Contents(tree), twin.keys());
}

TEST(AvlTreeTest, PooledNodesBehaveLikeMallocedOnes) {
  using Key = std::pair<double, uint64_t>;
  auto pool = std::make_shared<NodePool>(4096);
  AvlTree<Key, std::less<Key>, PoolAllocator<Key>> tree{std::less<Key>{}, PoolAllocator<Key>(pool)};
  std::set<Key> ref;
  std::mt19937_64 rng(11);
  for (size_t i = 0; i < Scaled(200000); ++i) {
    const Key k{static_cast<double>(rng() % 100), rng() % 50};
    if (rng() % 2 == 0) {
      ASSERT_EQ(tree.Insert(k), ref.insert(k).second);
    } else {
      ASSERT_EQ(tree.Erase(k), ref.erase(k) == 1);
    }
  }
  ASSERT_TRUE(tree.CheckInvariants().ok());
  EXPECT_EQ(std::vector<Key>(tree.begin(), tree.end()), std::vector<Key>(ref.begin(), ref.end()));
  // Freed nodes are recycled: the pool never holds more slabs than the peak needs.
  EXPECT_LE(pool->ReservedBytes(), 4096 * (5000 * 64 / 4096 + 2));
  tree.Clear();
  EXPECT_TRUE(tree.empty());
}

// Large trees: a million random 64-bit keys against std::set, then erase half.
TEST(AvlTreeTest, LargeRandomTreeMatchesStdSet) {
  std::mt19937_64 rng(1234);
  AvlTree<uint64_t> tree;
  std::set<uint64_t> ref;
  const size_t n = Scaled(1000000);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = rng();
    ASSERT_EQ(tree.Insert(k), ref.insert(k).second);
  }
  ASSERT_TRUE(tree.CheckInvariants().ok());
  ASSERT_LE(tree.height(), MaxAvlHeight(tree.size()));
  // Erase every other key in order, checking each rank first.
  std::vector<uint64_t> keys(ref.begin(), ref.end());
  for (size_t i = 0; i < keys.size(); i += 2) {
    // keys[0], keys[2], ..., keys[i - 2] (i / 2 smaller keys) are gone.
    ASSERT_EQ(tree.Rank(keys[i]), i - i / 2);
    ASSERT_TRUE(tree.Erase(keys[i]));
  }
  ASSERT_TRUE(tree.CheckInvariants().ok());
  ASSERT_EQ(tree.size(), keys.size() / 2);
  size_t r = 0;
  for (size_t i = 1; i < keys.size(); i += 2, ++r) ASSERT_EQ(*tree.Select(r), keys[i]);
}

}  // namespace
}  // namespace ragkv::avl
