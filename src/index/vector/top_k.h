// TopK: the k smallest (distance, label) pairs seen so far, and the shared
// argument checks of Search (internal).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

// Orders by distance, then label, so results are deterministic under ties.
inline bool NeighborLess(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.label < b.label);
}

// A bounded max-heap. Push is O(log k); Take returns the pairs sorted.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k < 4096 ? k : 4096); }

  // True if a pair at `distance` could still enter.
  bool WouldAccept(float distance) const {
    return heap_.size() < k_ || distance <= heap_.front().distance;
  }
  void Push(uint64_t label, float distance) {
    const Neighbor n{label, distance};
    if (heap_.size() < k_) {
      heap_.push_back(n);
      std::push_heap(heap_.begin(), heap_.end(), NeighborLess);
    } else if (NeighborLess(n, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), NeighborLess);
      heap_.back() = n;
      std::push_heap(heap_.begin(), heap_.end(), NeighborLess);
    }
  }
  size_t size() const { return heap_.size(); }
  std::vector<Neighbor> Take() {
    std::sort_heap(heap_.begin(), heap_.end(), NeighborLess);
    return std::move(heap_);
  }

 private:
  size_t k_;
  std::vector<Neighbor> heap_;
};

inline Status CheckKnnArgs(size_t k, const SearchParams& params) {
  if (k == 0) return Status::InvalidArgument("k must be at least 1");
  if (params.ef != 0 && params.ef < k) {
    return Status::InvalidArgument("ef (" + std::to_string(params.ef) + ") must be >= k (" +
                                   std::to_string(k) + ")");
  }
  return Status::Ok();
}

inline Status CheckRadius(float radius) {
  if (radius != radius || radius == __builtin_inff() || radius == -__builtin_inff()) {
    return Status::InvalidArgument("radius must be a finite number");
  }
  return Status::Ok();
}

}  // namespace ragkv::vec::internal
