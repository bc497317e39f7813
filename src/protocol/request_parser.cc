// RequestParser: a resumable state machine over the query buffer.
//
// Approach: Redis's processMultibulkBuffer, but offsets instead of copies. The
// parser records where each argument lies relative to the request start and
// hands out string_views once the whole request is present, so a command costs
// no allocation once the vectors have grown. Inline requests are rare (telnet,
// redis-benchmark's PING_INLINE) and need unescaping, so they are copied.
//
// Rejected: a re-parse from scratch on every read (simple, but quadratic for a
// 1M-argument MSET arriving in 16 KiB pieces), and a pull parser over a ring
// buffer (args would straddle the wrap point).
#include "protocol/request_parser.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>

namespace ragkv::resp {
namespace {

constexpr int64_t kUnauthMaxMultibulk = 10;
constexpr int64_t kUnauthMaxBulk = 16384;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (s.size() == 1 && s[0] == '0') {
    *out = 0;
    return true;
  }
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  const size_t n = line.size();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (true) {
    while (i < n && is_space(line[i])) ++i;
    if (i >= n) return true;
    std::string current;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (i >= n) return false;  // unterminated quotes
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
            HexValue(line[i + 3]) >= 0) {
          current.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          char c;
          switch (line[i]) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: c = line[i]; break;
          }
          current.push_back(c);
        } else if (line[i] == '"') {
          // The closing quote must be followed by a space or nothing.
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else if (in_sq) {
        if (i >= n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          current.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          current.push_back(line[i]);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        switch (line[i]) {
          case ' ': case '\n': case '\r': case '\t': case '\v': case '\f':
            done = true;
            break;
          case '"': in_dq = true; break;
          case '\'': in_sq = true; break;
          default: current.push_back(line[i]); break;
        }
      }
      if (i < n) ++i;
    }
    out->push_back(std::move(current));
  }
}

void RequestParser::Reset() {
  pos_ = 0;
  multibulk_left_ = -1;
  bulk_len_ = -1;
  spans_.clear();
  consumed_ = 0;
}

ParseStatus RequestParser::Fail(std::string_view message) {
  error_.assign(message);
  Reset();
  return ParseStatus::kError;
}

ParseStatus RequestParser::Parse(std::string_view buf) {
  args_.clear();
  consumed_ = 0;
  if (buf.empty()) return ParseStatus::kNeedMore;
  if (multibulk_left_ < 0 && buf[0] != '*') return ParseInline(buf);
  return ParseMultibulk(buf);
}

ParseStatus RequestParser::ParseInline(std::string_view buf) {
  const void* nl = std::memchr(buf.data(), '\n', buf.size());
  if (nl == nullptr) {
    if (buf.size() > limits_.max_inline_len) return Fail("Protocol error: too big inline request");
    return ParseStatus::kNeedMore;
  }
  size_t line_end = static_cast<size_t>(static_cast<const char*>(nl) - buf.data());
  if (line_end > limits_.max_inline_len) return Fail("Protocol error: too big inline request");
  std::string_view line = buf.substr(0, line_end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitInlineArgs(line, &inline_args_)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  for (const std::string& a : inline_args_) args_.emplace_back(a);
  consumed_ = line_end + 1;
  Reset();
  consumed_ = line_end + 1;
  return ParseStatus::kComplete;
}

ParseStatus RequestParser::ParseMultibulk(std::string_view buf) {
  // Finds the "\r\n"-terminated line that starts at pos_; returns false when
  // it is not all there yet. `line` excludes the type byte and the CRLF.
  auto read_line = [&](std::string_view* line, size_t* next) -> bool {
    const char* start = buf.data() + pos_;
    const void* cr = std::memchr(start, '\r', buf.size() - pos_);
    if (cr == nullptr) return false;
    size_t cr_at = static_cast<size_t>(static_cast<const char*>(cr) - buf.data());
    if (cr_at + 1 >= buf.size()) return false;  // need the '\n' too
    *line = buf.substr(pos_ + 1, cr_at - pos_ - 1);
    *next = cr_at + 2;
    return true;
  };

  if (multibulk_left_ < 0) {
    std::string_view line;
    size_t next;
    if (!read_line(&line, &next)) {
      if (buf.size() - pos_ > limits_.max_inline_len) {
        return Fail("Protocol error: too big mbulk count string");
      }
      return ParseStatus::kNeedMore;
    }
    int64_t count;
    if (!ParseInt64(line, &count) || count > INT_MAX) {
      return Fail("Protocol error: invalid multibulk length");
    }
    if (limits_.unauthenticated && count > kUnauthMaxMultibulk) {
      return Fail("Protocol error: invalid multibulk length");
    }
    pos_ = next;
    if (count <= 0) {
      consumed_ = pos_;
      size_t used = pos_;
      Reset();
      consumed_ = used;
      return ParseStatus::kComplete;
    }
    multibulk_left_ = count;
    // Trust the count only as far as a sane preallocation goes.
    spans_.reserve(static_cast<size_t>(std::min<int64_t>(count, 1024)));
  }

  while (multibulk_left_ > 0) {
    if (bulk_len_ < 0) {
      if (pos_ >= buf.size()) return ParseStatus::kNeedMore;
      std::string_view line;
      size_t next;
      if (!read_line(&line, &next)) {
        if (buf.size() - pos_ > limits_.max_inline_len) {
          return Fail("Protocol error: too big bulk count string");
        }
        return ParseStatus::kNeedMore;
      }
      if (buf[pos_] != '$') {
        std::string msg = "Protocol error: expected '$', got '";
        msg.push_back(buf[pos_]);
        msg.push_back('\'');
        return Fail(msg);
      }
      int64_t len;
      if (!ParseInt64(line, &len) || len < 0 || len > limits_.max_bulk_len ||
          (limits_.unauthenticated && len > kUnauthMaxBulk)) {
        return Fail("Protocol error: invalid bulk length");
      }
      bulk_len_ = len;
      pos_ = next;
    }
    size_t need = static_cast<size_t>(bulk_len_) + 2;
    if (buf.size() - pos_ < need) return ParseStatus::kNeedMore;
    spans_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    // Like Redis, the two bytes after the payload are skipped unchecked.
    pos_ += need;
    bulk_len_ = -1;
    --multibulk_left_;
  }

  args_.reserve(spans_.size());
  for (const auto& [offset, len] : spans_) args_.emplace_back(buf.data() + offset, len);
  size_t used = pos_;
  Reset();
  consumed_ = used;
  return ParseStatus::kComplete;
}

}  // namespace ragkv::resp
