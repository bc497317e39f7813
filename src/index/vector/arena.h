// Arena: a growable, 64-byte aligned byte array for vectors and graph
// records (internal). Large arenas are mmap'ed and advised with
// MADV_HUGEPAGE: HNSW search is a chain of dependent random loads, and 2 MiB
// pages cut the TLB misses per hop (THP runs in madvise mode here, so without
// the advice the kernel never backs us with huge pages).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ragkv::vec::internal {

class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&& other) noexcept;
  Arena& operator=(Arena&& other) noexcept;

  // Grows to at least `bytes` (capacity doubles), keeping the contents; new
  // bytes are zero. Returns false if memory is exhausted (contents kept).
  bool Reserve(size_t bytes);

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }

  // Huge-page advice is on by default; RAGKV_VEC_HUGEPAGES=0 turns it off
  // (for measuring its effect).
  static bool HugePagesEnabled();

 private:
  void Release();
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace ragkv::vec::internal
