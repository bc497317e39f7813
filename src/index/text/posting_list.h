// PostingList: the sorted set of document ids that contain one term (or tag),
// as a flat vector of ids in increasing order.
//
// Why a vector: FT indexes assign doc ids in increasing order, so building an
// index (a backfill, a snapshot load, an ingest) only ever appends, which is a
// push_back instead of a std::set node allocation per (term, document), and a
// query copies or merges contiguous memory. Removal marks the id's entry dead
// (a tombstone bit, found by binary search) and the dead entries are dropped
// in one pass once they make up half the vector, so a re-index of many
// documents stays O(log df) amortised per entry instead of O(df) memmoves.
// A removed id that comes back (a key re-indexed under its old id) revives its
// tombstone in place.
//
// Thread safety: none; the owning index serialises writers. Const methods may
// run concurrently with each other.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ragkv::text {

class PostingList {
 public:
  // Adds `id`; returns false (and changes nothing) if it is already present.
  // REQUIRES: id < 2^63. O(1) amortised when `id` is at least every id ever
  // added (so an indexer may call it once per token, and dedups for free),
  // else O(log n), plus O(n) for an insertion in the middle.
  bool Add(uint64_t id) {
    if (entries_.empty() || id > Id(entries_.back())) {
      entries_.push_back(id);
      ++live_;
      return true;
    }
    // A document's repeated term: answered without a search.
    if (entries_.back() == id) return false;
    auto it = LowerBound(id);
    if (it != entries_.end() && Id(*it) == id) {
      if ((*it & kDead) == 0) return false;
      *it = id;
      --dead_;
      ++live_;
      return true;
    }
    entries_.insert(it, id);
    ++live_;
    return true;
  }

  // Removes `id`; returns false if it was not present. O(log n) amortised.
  bool Remove(uint64_t id) {
    auto it = LowerBound(id);
    if (it == entries_.end() || *it != id) return false;  // absent or already dead
    *it |= kDead;
    ++dead_;
    --live_;
    if (dead_ * 2 >= entries_.size()) Compact();
    return true;
  }

  bool Contains(uint64_t id) const {
    auto it = LowerBound(id);
    return it != entries_.end() && *it == id;
  }

  // Live ids.
  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // Calls fn(id) for every live id in increasing order. O(n).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (dead_ == 0) {
      for (uint64_t e : entries_) fn(e);
      return;
    }
    for (uint64_t e : entries_) {
      if ((e & kDead) == 0) fn(e);
    }
  }

  // Appends the live ids, in increasing order, to `out`. O(n).
  void AppendTo(std::vector<uint64_t>* out) const {
    if (dead_ == 0) {
      out->insert(out->end(), entries_.begin(), entries_.end());
      return;
    }
    ForEach([out](uint64_t id) { out->push_back(id); });
  }

  // Bytes held (capacity of the entry vector).
  size_t MemoryBytes() const { return entries_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr uint64_t kDead = uint64_t{1} << 63;
  static uint64_t Id(uint64_t entry) { return entry & ~kDead; }

  std::vector<uint64_t>::iterator LowerBound(uint64_t id) {
    return std::lower_bound(entries_.begin(), entries_.end(), id,
                            [](uint64_t e, uint64_t x) { return Id(e) < x; });
  }
  std::vector<uint64_t>::const_iterator LowerBound(uint64_t id) const {
    return std::lower_bound(entries_.begin(), entries_.end(), id,
                            [](uint64_t e, uint64_t x) { return Id(e) < x; });
  }

  void Compact() {
    std::erase_if(entries_, [](uint64_t e) { return (e & kDead) != 0; });
    dead_ = 0;
    if (entries_.capacity() > 2 * entries_.size() + 16) entries_.shrink_to_fit();
  }

  std::vector<uint64_t> entries_;  // sorted by Id(); dead entries carry kDead
  size_t live_ = 0;
  size_t dead_ = 0;
};

}  // namespace ragkv::text
