// NodePool and PoolAllocator: a free-list slab allocator for AvlTree nodes,
// for the few large, long-lived trees (NUMERIC field indexes) where it pays.
//
//   auto pool = std::make_shared<NodePool>(NodePool::kDefaultSlabBytes);
//   AvlTree<Key, Less, PoolAllocator<Key>> tree(Less(), PoolAllocator<Key>(pool));
//
// Nodes are carved from slabs and recycled through an intrusive free list;
// slabs go back to the system only when the pool dies. Measured against
// malloc in docs/benchmarks/avl.md: faster inserts and no per-node malloc
// header, but freed nodes stay captive, and the first slab is a fixed cost.
// That is why sorted sets (many small trees that shrink) use std::allocator.
//
// Thread safety: none; one pool per tree (or per set of trees used by one
// thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace ragkv::avl {

class NodePool {
 public:
  static constexpr size_t kDefaultSlabBytes = 64 << 10;

  explicit NodePool(size_t slab_bytes = kDefaultSlabBytes) : slab_bytes_(slab_bytes) {}
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // Returns storage for one object of `size` bytes (16-byte aligned). Every
  // call must use the same size; the first call fixes it. O(1).
  void* Allocate(size_t size) {
    if (slot_bytes_ == 0) slot_bytes_ = (size + 15) / 16 * 16;
    if (free_ != nullptr) {
      void* p = free_;
      free_ = *static_cast<void**>(free_);
      return p;
    }
    if (slabs_.empty() || used_ + slot_bytes_ > slab_bytes_) {
      slabs_.push_back(std::make_unique<std::byte[]>(std::max(slab_bytes_, slot_bytes_)));
      used_ = 0;
    }
    void* p = slabs_.back().get() + used_;
    used_ += slot_bytes_;
    return p;
  }
  // Returns `p` (from Allocate) to the free list. O(1).
  void Deallocate(void* p) {
    *static_cast<void**>(p) = free_;
    free_ = p;
  }
  // Bytes reserved from the system.
  size_t ReservedBytes() const { return slabs_.size() * std::max(slab_bytes_, slot_bytes_); }

 private:
  size_t slab_bytes_;
  size_t slot_bytes_ = 0;
  std::vector<std::unique_ptr<std::byte[]>> slabs_;
  size_t used_ = 0;
  void* free_ = nullptr;
};

// A std::allocator-shaped handle on a shared NodePool. Single-object requests
// (what AvlTree makes) come from the pool; anything else from operator new.
template <typename T>
class PoolAllocator {
 public:
  using value_type = T;

  explicit PoolAllocator(std::shared_ptr<NodePool> pool) : pool_(std::move(pool)) {}
  template <typename U>
  PoolAllocator(const PoolAllocator<U>& other) : pool_(other.pool_) {}  // NOLINT: rebinding

  T* allocate(size_t n) {
    if (n != 1) return std::allocator<T>().allocate(n);
    return static_cast<T*>(pool_->Allocate(sizeof(T)));
  }
  void deallocate(T* p, size_t n) {
    if (n != 1) return std::allocator<T>().deallocate(p, n);
    pool_->Deallocate(p);
  }
  template <typename U>
  bool operator==(const PoolAllocator<U>& other) const {
    return pool_ == other.pool_;
  }

 private:
  template <typename U>
  friend class PoolAllocator;
  std::shared_ptr<NodePool> pool_;
};

}  // namespace ragkv::avl
