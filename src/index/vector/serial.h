// Little-endian byte buffer writer/reader for the index file format
// (docs/formats/vector_index.md). The reader never reads past its end: every
// Get returns false instead, which loaders turn into kCorruption.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "common/status.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the index format is little-endian");

// Buffers little-endian fields and hands ~1 MiB chunks to a ByteSink,
// keeping a running crc32c of everything written. Errors are sticky: after
// the sink fails, Put* do nothing and Finish returns the error.
class ChunkedWriter {
 public:
  static constexpr size_t kChunk = 1 << 20;

  explicit ChunkedWriter(ByteSink& sink) : sink_(sink) { buf_.reserve(kChunk); }

  template <typename T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    PutBytes(&v, sizeof(T));
  }
  void PutBytes(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {  // a large array (FLAT's codes) goes out in chunks too
      const size_t k = std::min(n, kChunk - buf_.size());
      buf_.append(c, k);
      c += k;
      n -= k;
      if (buf_.size() >= kChunk) Flush();
    }
  }
  // Appends the crc32c footer, flushes, and checks that exactly `expected`
  // bytes (the size announced to the sink's Begin) were written.
  Status Finish(uint64_t expected);

 private:
  void Flush();

  ByteSink& sink_;
  std::string buf_;
  uint32_t crc_ = 0;
  uint64_t written_ = 0;
  Status status_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  bool Get(T* v) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool GetBytes(void* out, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

inline Status Truncated(const char* what) {
  return Status::Corruption(std::string("vector index file truncated or malformed: ") + what);
}

}  // namespace ragkv::vec::internal
