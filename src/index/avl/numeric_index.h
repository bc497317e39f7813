// NumericIndex: the range index behind a NUMERIC field of an FT.* index. It
// holds (value, doc id) pairs ordered by value, then id, and answers
// "@field:[lo hi]" with exclusive or infinite bounds: counts in O(log n),
// visits in O(log n + matches) in ascending value order.
//
// It is an AvlTree<(double, uint64)> with pooled nodes. Unlike sorted sets,
// this is one big, long-lived tree per field, so the pool's faster inserts
// and missing malloc headers pay off (docs/benchmarks/avl.md), and its
// captive free list is reused by later inserts.
//
// The caller (the FT executor) remembers each document's value, because
// Remove needs it. Bounds use ScoreBound/ScoreRange from sorted_set.h
// (value + exclusive flag; ±inf for open ends), so they parse with the same
// helpers.
//
// Thread safety: none; const methods may run concurrently with each other.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "index/avl/avl_tree.h"
#include "index/avl/node_pool.h"
#include "index/avl/sorted_set.h"

namespace ragkv::avl {

class NumericIndex {
 public:
  using Entry = std::pair<double, uint64_t>;  // (value, doc id)

  NumericIndex()
      : pool_(std::make_shared<NodePool>()),
        tree_(std::less<Entry>(), PoolAllocator<Entry>(pool_)) {}
  NumericIndex(NumericIndex&&) noexcept = default;
  NumericIndex& operator=(NumericIndex&&) noexcept = default;

  size_t size() const { return tree_.size(); }

  // Indexes `doc` under `value`. Returns false (and indexes nothing) for NaN
  // or if this exact pair is already present. O(log n).
  bool Add(double value, uint64_t doc) {
    if (std::isnan(value)) return false;
    return tree_.Insert(Entry{Normalize(value), doc});
  }

  // Removes the pair; returns false if it was not present. O(log n).
  bool Remove(double value, uint64_t doc) {
    if (std::isnan(value)) return false;
    return tree_.Erase(Entry{Normalize(value), doc});
  }

  // True if `doc` is indexed under `value` (for callers' invariant checks).
  // O(log n).
  bool Contains(double value, uint64_t doc) const {
    return !std::isnan(value) && tree_.Contains(Entry{Normalize(value), doc});
  }

  // Number of documents whose value lies in `range`. O(log n).
  size_t Count(const ScoreRange& range) const { return Window(range).count; }

  // Calls fn(uint64_t doc, double value) for each document in `range`, in
  // ascending value order (ties by doc id), stopping early if fn returns
  // false. O(log n + visited).
  template <typename Fn>
  void Visit(const ScoreRange& range, Fn&& fn) const {
    const RankWindow w = Window(range);
    auto it = tree_.IteratorAt(w.first);
    for (size_t i = 0; i < w.count; ++i, ++it) {
      if (!fn(it->second, it->first)) return;
    }
  }

  // Ranks of the matching entries; lets a planner estimate selectivity
  // (count / size()) before choosing between filtered HNSW and a scan.
  RankWindow Window(const ScoreRange& range) const {
    const ScoreBound& lo = range.min;
    const ScoreBound& hi = range.max;
    const size_t first = tree_.PartitionPoint([&](const Entry& e) {
      return e.first < lo.value || (lo.exclusive && e.first == lo.value);
    });
    const size_t last = tree_.PartitionPoint([&](const Entry& e) {
      return e.first < hi.value || (!hi.exclusive && e.first == hi.value);
    });
    return {first, last > first ? last - first : 0};
  }

  // Bytes held: tree nodes (pool slabs) and bookkeeping.
  size_t MemoryUsage() const { return sizeof(*this) + pool_->ReservedBytes(); }

  Status CheckInvariants() const { return tree_.CheckInvariants(); }

 private:
  // -0.0 and 0.0 are the same number to a range query; store one of them so
  // that Remove finds what Add stored whichever zero the caller passes.
  static double Normalize(double v) { return v == 0 ? 0.0 : v; }

  std::shared_ptr<NodePool> pool_;
  AvlTree<Entry, std::less<Entry>, PoolAllocator<Entry>> tree_;
};

}  // namespace ragkv::avl
