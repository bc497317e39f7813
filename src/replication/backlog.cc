// Ring buffer over a std::vector<char>: head_ is the write position, the
// history is the histlen_ bytes before it (wrapping). Appends larger than
// the capacity keep only their tail. Rejected: a deque of chunks (Redis 7's
// shared replication buffer) — it lets replica output and backlog share
// memory, but our replica outputs are separate strings anyway and a flat
// ring is simpler to prove correct.
#include "replication/backlog.h"

#include <algorithm>
#include <cstring>

namespace ragkv::replication {

Backlog::Backlog(size_t capacity) : buffer_(std::max<size_t>(capacity, 1)) {}

void Backlog::Append(std::string_view bytes) {
  offset_ += static_cast<int64_t>(bytes.size());
  const size_t cap = buffer_.size();
  if (bytes.size() >= cap) {
    std::memcpy(buffer_.data(), bytes.data() + bytes.size() - cap, cap);
    head_ = 0;
    histlen_ = cap;
    return;
  }
  size_t first = std::min(bytes.size(), cap - head_);
  std::memcpy(buffer_.data() + head_, bytes.data(), first);
  std::memcpy(buffer_.data(), bytes.data() + first, bytes.size() - first);
  head_ = (head_ + bytes.size()) % cap;
  histlen_ = std::min(cap, histlen_ + bytes.size());
}

bool Backlog::CanServe(int64_t from) const {
  return from >= first_byte_offset() && from <= offset_ + 1;
}

void Backlog::CopyFrom(int64_t from, std::string* out) const {
  const size_t cap = buffer_.size();
  size_t n = static_cast<size_t>(offset_ - from + 1);
  // Position of byte `from`: head_ is one past byte offset_.
  size_t start = (head_ + cap - n % cap) % cap;
  size_t first = std::min(n, cap - start);
  out->append(buffer_.data() + start, first);
  out->append(buffer_.data(), n - first);
}

void Backlog::Reset(int64_t offset) {
  offset_ = offset;
  head_ = 0;
  histlen_ = 0;
}

void Backlog::Resize(size_t capacity) {
  capacity = std::max<size_t>(capacity, 1);
  if (capacity == buffer_.size()) return;
  std::string keep;
  size_t n = std::min(histlen_, capacity);
  if (n > 0) CopyFrom(offset_ - static_cast<int64_t>(n) + 1, &keep);
  buffer_.assign(capacity, 0);
  std::memcpy(buffer_.data(), keep.data(), keep.size());
  histlen_ = keep.size();
  head_ = keep.size() % capacity;
}

}  // namespace ragkv::replication
