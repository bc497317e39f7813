// RequestParser: incremental parser for client requests in RESP (arrays of
// bulk strings) and the inline form ("SET k v\r\n"), with Redis's limits and
// Redis's exact protocol error texts.
//
// Usage (one parser per connection):
//
//   std::string_view pending = query_buffer.view_from(request_start);
//   switch (parser.Parse(pending)) {
//     case ParseStatus::kComplete: Execute(parser.args()); drop parser.consumed() bytes; break;
//     case ParseStatus::kNeedMore: read more, append, call Parse again with the same start;
//     case ParseStatus::kError: reply "-ERR " + parser.error() and close the connection;
//   }
//
// Between kNeedMore and the next call the caller may append to the buffer (and
// even move it) but must pass a view that begins at the same request start:
// the parser remembers offsets, not pointers, so a request that arrives byte by
// byte is scanned only once (no quadratic re-parsing of big pipelines).
//
// Thread safety: none; a parser belongs to one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ragkv::resp {

enum class ParseStatus : uint8_t { kComplete, kNeedMore, kError };

struct RequestLimits {
  // proto-max-bulk-len: the largest bulk string accepted.
  int64_t max_bulk_len = 512LL * 1024 * 1024;
  // Headers ("*N", "$N") and inline requests longer than this are refused
  // (Redis's PROTO_INLINE_MAX_SIZE).
  size_t max_inline_len = 64 * 1024;
  // Stricter limits for clients that have not authenticated yet (Redis 7):
  // at most 10 arguments of at most 16 KiB each.
  bool unauthenticated = false;
};

class RequestParser {
 public:
  RequestParser() = default;

  void set_limits(const RequestLimits& limits) { limits_ = limits; }
  const RequestLimits& limits() const { return limits_; }

  // Parses at most one request from `buf`, which starts at the first byte of
  // the request (see the file comment).
  //  - kComplete: args() holds the arguments (views into `buf`, or into the
  //    parser for inline requests; valid until the next Parse call and while
  //    `buf` is unchanged) and consumed() the bytes the request took. args()
  //    may be empty (a blank inline line or "*0"): skip it.
  //  - kNeedMore: more bytes are needed; consumed() is 0.
  //  - kError: error() is the text Redis replies with after "-ERR ", e.g.
  //    "Protocol error: invalid bulk length". The stream is unusable.
  ParseStatus Parse(std::string_view buf);

  const std::vector<std::string_view>& args() const { return args_; }
  size_t consumed() const { return consumed_; }
  std::string_view error() const { return error_; }

  // Forgets a partially parsed request.
  void Reset();

 private:
  ParseStatus ParseInline(std::string_view buf);
  ParseStatus ParseMultibulk(std::string_view buf);
  ParseStatus Fail(std::string_view message);

  RequestLimits limits_;
  // State of a multibulk request in progress; offsets are relative to the
  // request start.
  size_t pos_ = 0;
  int64_t multibulk_left_ = -1;  // -1: header not read yet
  int64_t bulk_len_ = -1;        // -1: "$N" header of the next argument not read yet
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) per argument

  std::vector<std::string_view> args_;
  std::vector<std::string> inline_args_;
  size_t consumed_ = 0;
  std::string error_;
};

// Splits an inline request line like Redis's sdssplitargs: whitespace
// separated, "double quoted" strings with \n \r \t \b \a \\ \" \xHH escapes,
// 'single quoted' strings with \' only. Returns false on unbalanced quotes
// (or a closing quote not followed by a space).
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

// Strict decimal parse of a signed 64-bit integer, as Redis's string2ll: no
// spaces, no '+', no leading zeros, within range. Used for every integer
// argument so error behaviour matches Redis.
bool ParseInt64(std::string_view s, int64_t* out);

}  // namespace ragkv::resp
