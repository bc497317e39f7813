// Backlog: the leader's replication backlog, a fixed-capacity ring buffer
// holding the most recent bytes of the replication stream, addressed by
// stream offset (Redis's repl_backlog).
//
// Offsets follow Redis: the stream's bytes are numbered from 1; offset() is
// the number of the last byte produced (master_repl_offset), and the backlog
// holds bytes [first_byte_offset(), offset()] (histlen() of them). A follower
// that has applied everything up to offset X asks PSYNC for X + 1.
//
// Thread safety: none (the event-loop thread). Complexity: Append and CopyFrom
// O(bytes); no allocation after construction except Resize.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ragkv::replication {

class Backlog {
 public:
  // REQUIRES: capacity > 0.
  explicit Backlog(size_t capacity);

  // Appends stream bytes; the oldest bytes are dropped beyond capacity.
  void Append(std::string_view bytes);

  int64_t offset() const { return offset_; }
  size_t histlen() const { return histlen_; }
  size_t capacity() const { return buffer_.size(); }
  int64_t first_byte_offset() const { return offset_ - static_cast<int64_t>(histlen_) + 1; }

  // True when a follower asking for stream byte `from` onwards (PSYNC's
  // offset) can be served from the backlog: first_byte_offset() <= from <=
  // offset() + 1.
  bool CanServe(int64_t from) const;
  // Appends bytes [from, offset()] to `out`. REQUIRES: CanServe(from).
  void CopyFrom(int64_t from, std::string* out) const;

  // Drops the history and continues numbering after `offset` (a follower
  // adopting its leader's stream position after a full sync).
  void Reset(int64_t offset);
  // Changes the capacity, keeping the newest bytes that fit.
  void Resize(size_t capacity);

 private:
  std::vector<char> buffer_;
  size_t head_ = 0;  // where the next byte goes
  size_t histlen_ = 0;
  int64_t offset_ = 0;
};

}  // namespace ragkv::replication
